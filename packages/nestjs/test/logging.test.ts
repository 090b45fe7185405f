import { Test } from '@nestjs/testing';
import type { Cache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { CacheModule, getCacheToken } from '@org/cache-nestjs';
import { chaosStore } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import { waitFor } from './support/app.js';
import { RecordingLogger } from './support/recording-logger.js';

describe('store problems reach the logger, rate-limited', () => {
  it('an outage of 200 failed reads is a few lines: the first error, a count, the circuit opening and closing', async () => {
    const logger = new RecordingLogger();
    const store = chaosStore(memoryStore(), { failureRate: 1 });
    const moduleRef = await Test.createTestingModule({
      imports: [
        CacheModule.forRoot({
          store,
          prefix: 'logged',
          logger,
          logInterval: '300ms',
          breaker: { failureThreshold: 5, cooldown: '100ms' },
        }),
      ],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    const cache = app.get<Cache>(getCacheToken());

    for (let i = 0; i < 200; i++) await cache.get(`k${i}`);
    expect(logger.matching('error', /^store error in default key logged:k0: /)).toHaveLength(1);
    // The other 199 are counted, not written: one summary line per interval (one, unless this busy
    // machine took longer than the interval for the loop).
    const summaries = () =>
      logger.matching('error', /^\d+ more in the last 300 ms; latest: store error in default/);
    const counted = () => summaries().reduce((sum, line) => sum + Number.parseInt(line.message, 10), 0);
    await waitFor(() => counted() === 199, 20_000, 'summary lines counting the 199 other failures');
    expect(summaries().at(-1)?.message).toMatch(/latest: store error in default key logged:k199: /);
    await waitFor(
      () => logger.matching('warn', /^circuit opened: store chaos/).length === 1,
      20_000,
      'circuit opened',
    );

    store.chaos.reset();
    await waitFor(
      async () => {
        await cache.get('probe');
        return logger.matching('log', /^circuit closed: store chaos\(.*\) answers again/).length === 1;
      },
      20_000,
      'circuit closed',
    );
    // 200 failures, a handful of lines
    expect(logger.lines.length).toBe(3 + summaries().length);
    await app.close();
  });

  it('logger: false reports nothing and subscribes to nothing', async () => {
    const store = chaosStore(memoryStore(), { failureRate: 1 });
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ store, prefix: 'quiet', logger: false })],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    await app.get<Cache>(getCacheToken()).get('k');
    expect(app.get<Cache>(getCacheToken()).stats().totals.storeErrors).toBe(1);
    await app.close();
  });
});
