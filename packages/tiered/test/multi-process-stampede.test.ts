import { type RedisServer, redisCommand, startRedisServer, uniquePrefix } from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BurstResult,
  type Instance,
  now,
  report,
  startInstances,
  stopAllInstances,
} from './support/instances.js';

// Cross-process coalescing through the two-tier store: the fetch lease lives in L2 (Redis), so
// four service instances, each with its own L1, fetch a cold key once between them.

const INSTANCES = 4;
const CALLERS = 250;

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());
afterEach(() => stopAllInstances());

// Forking instances and waiting on Redis takes seconds: a bounded but generous timeout per test.
describe('tieredStore across processes: getOrSet stampede', { timeout: 30_000 }, () => {
  it(`${INSTANCES} instances x ${CALLERS} concurrent getOrSet on a cold key fetch once in total`, async () => {
    const shared = {
      url: server.url,
      channel: uniquePrefix('stampede-bus'),
      prefix: uniquePrefix('stampede'),
    };
    const instances: Instance[] = await startInstances(
      Array.from({ length: INSTANCES }, (_, index) => ({ name: `I${index}`, ...shared })),
    );
    const key = 'catalog:product:cold';
    const counterKey = `${shared.prefix}-fetches`;
    const value = { id: 'cold', price: 42 };
    // Every instance starts its burst at the same instant (IPC latency would otherwise stagger them).
    const startAt = now() + 300;
    const results = await Promise.all(
      instances.map((instance) =>
        instance.request<BurstResult>('burst', {
          key,
          callers: CALLERS,
          delayMs: 150,
          value,
          counterKey,
          startAt,
        }),
      ),
    );
    const fetches = results.reduce((sum, result) => sum + result.fetches, 0);
    const counted = Number(await redisCommand(server.port, ['GET', counterKey]));
    const errors = results.flatMap((result) => result.errors);
    const answers = results.flatMap((result) => result.values);
    report(
      'stampede',
      `${INSTANCES} x ${CALLERS} getOrSet -> ${fetches} fetch(es) (Redis counter ${counted}); ` +
        results.map((result) => `${result.name} ${result.elapsedMs.toFixed(0)} ms`).join(', '),
    );
    expect(errors).toEqual([]);
    expect(answers).toEqual(results.map(() => ({ value, count: CALLERS })));
    expect(fetches).toBe(1);
    expect(counted).toBe(1);

    // Afterwards every instance serves the key from its own L1.
    for (const instance of instances) {
      await instance.probe(key);
      expect(await instance.probe(key)).toEqual({ value, l1Hit: true, l2Read: false });
    }
  });
});
