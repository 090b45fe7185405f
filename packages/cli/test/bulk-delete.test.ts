import { afterAll, beforeAll, expect, it } from 'vitest';
import { cachectl, startCachectl } from './support/cachectl.js';
import { type RedisServer, startRedisServer } from './support/redis.js';
import { Sdk } from './support/sdk.js';

// A 100,000-entry pattern delete through the binary, with the progress it prints on stderr; first
// interrupted by Ctrl-C part way, then run to the end.

let redis: RedisServer;
const sdk = new Sdk(() => redis.url);
const PREFIX = 'bulk';
const ENTRIES = 100_000;
const CHUNK = 2_000;

beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);

afterAll(async () => {
  await sdk.closeAll();
  await redis?.stop();
});

it('invalidate --pattern deletes 100k entries through the SDK, printing progress lines', async () => {
  // Seeded through the SDK, pipelined: setMany sends a chunk's writes in one go. A generous
  // deadline: a write past it would be dropped (and counted), not stored.
  const cache = sdk.cache(PREFIX, { operationTimeout: '60s' });
  for (let start = 0; start < ENTRIES; start += CHUNK) {
    await cache.setMany(
      Array.from({ length: CHUNK }, (_, offset) => ({
        key: `orders:detail:${start + offset}`,
        value: { id: start + offset },
        ttl: '1h',
      })),
    );
  }
  await cache.setMany(Array.from({ length: 10 }, (_, id) => ({ key: `catalog:product:${id}`, value: id })));
  // A dropped write is counted, not thrown: make sure the seed is all there.
  expect(cache.stats().totals.droppedWrites).toBe(0);

  const args = ['invalidate', '--pattern', 'orders:*', '--yes', '--progress', '--json'];
  const target = ['--url', redis.url, '--prefix', PREFIX];

  // Ctrl-C after the first batch: it stops between two batches, exit 130, part deleted.
  const interrupted = startCachectl([...args, ...target], { killAfterMs: 240_000 });
  await interrupted.waitForStderr('progress ');
  interrupted.signal('SIGINT');
  const stopped = await interrupted.finished;
  expect(stopped.code).toBe(130);
  expect(stopped.stderr).toContain('interrupted before the command finished');
  const remaining = await cache.countByPattern('orders:*');
  expect(remaining).toBeGreaterThan(0);
  expect(remaining).toBeLessThan(ENTRIES);

  const result = await cachectl([...args, ...target], { killAfterMs: 240_000 });
  expect(result.stderr).not.toContain('"error"');
  expect(result.code, result.stderr).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({
    kind: 'pattern',
    targets: ['orders:*'],
    matched: remaining,
    invalidated: remaining,
    dryRun: false,
    busChannel: null,
  });

  const progress = result.stderr.split('\n').flatMap((line) => {
    const match = /^progress (\d+)\/(\d+) \((\d+)%\)$/.exec(line);
    return match ? [{ done: Number(match[1]), total: Number(match[2]), percent: Number(match[3]) }] : [];
  });
  // One line per whole percent at most, the first long before the end, then steadily up to 100%.
  expect(progress.length).toBeGreaterThanOrEqual(20);
  expect(progress.length).toBeLessThanOrEqual(102);
  expect(progress[0]?.done).toBeLessThan(remaining / 10);
  expect(progress.every((line) => line.total === remaining)).toBe(true);
  expect(progress.map((line) => line.done)).toEqual(progress.map((line) => line.done).sort((a, b) => a - b));
  expect(progress.at(-1)).toEqual({ done: remaining, total: remaining, percent: 100 });

  expect(await cache.countByPattern('orders:*')).toBe(0);
  expect(await cache.countByPattern('catalog:*')).toBe(10);
}, 300_000);
