import type { EventEmitter } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Cache, type CacheOptions, createCache } from '@org/cache-core';
import { type RedisStore, redisStore } from '@org/cache-redis';
import {
  countCommands,
  type RedisServer,
  report,
  settle,
  sleep,
  startRedisServer,
} from '@org/cache-test-support';
import { afterAll, describe, expect, it } from 'vitest';

// 1000 failed operations against a dead Redis must leave nothing behind: no listeners on the
// node-redis client or the process, no handles or timers, no heap that keeps growing. The
// RESEARCH notes name the trap: @keyv/redis 5.1.6's getClient() leaks 4 listeners per failed connect.

const servers: RedisServer[] = [];
const caches: Cache[] = [];
afterAll(async () => {
  await Promise.allSettled(caches.map((cache) => cache.close()));
  await Promise.allSettled(servers.map((server) => server.stop()));
});

/** A cache whose Redis was up once and is now gone: the client is in its reconnect loop. */
async function deadRedisCache(
  prefix: string,
  options: Partial<CacheOptions> = {},
): Promise<{ cache: Cache; store: RedisStore }> {
  const server = await startRedisServer();
  servers.push(server);
  const store = redisStore({ url: server.url });
  const cache = createCache({ store, prefix, ...options });
  caches.push(cache);
  await cache.set('warm', 1);
  expect(await cache.get('warm')).toBe(1);
  await server.kill();
  return { cache, store };
}

/** One of each operation a service makes, against the dead store; resolves when all settled. */
async function failedOperations(cache: Cache, round: number): Promise<number> {
  const key = `orders:${round % 50}`;
  const outcomes = await Promise.all([
    settle(() => cache.get(key)),
    settle(() => cache.getOrSet(key, () => ({ round }))),
    settle(() => cache.getOrSet(`tagged:${round % 50}`, () => round, { tags: ['account:1'] })),
    settle(() => cache.set(key, { round })),
    settle(() => cache.delete(key)),
    settle(() => cache.getMany([key, 'other'])),
    settle(() => cache.setMany([{ key, value: round }])),
    settle(() => cache.invalidateTags(['account:1'])),
    settle(() => cache.has(key)),
    settle(() => cache.health()),
  ]);
  return outcomes.length;
}

function listenerCounts(emitter: EventEmitter): Record<string, number> {
  return Object.fromEntries(emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]));
}

const PROCESS_EVENTS = [
  'exit',
  'beforeExit',
  'unhandledRejection',
  'uncaughtException',
  'warning',
  'SIGINT',
  'SIGTERM',
];

function processListenerCounts(): Record<string, number> {
  return Object.fromEntries(PROCESS_EVENTS.map((name) => [name, process.listenerCount(name)]));
}

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** `global.gc` without --expose-gc: the flag can be set at run time and gc read from a fresh context. */
function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

describe('no leak across failed operations against a dead Redis', () => {
  it('1000 failed operations add no listeners, handles or timers (breaker off: every one reaches node-redis)', async () => {
    // The breaker is turned off so the adapter and node-redis see every operation.
    const { cache, store } = await deadRedisCache('leaks', { breaker: { failureThreshold: 1_000_000 } });
    const client = store.client as unknown as EventEmitter;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      for (let round = 0; round < 10; round++) await failedOperations(cache, round); // warm-up
      await sleep(50);
      const before = {
        client: listenerCounts(client),
        store: listenerCounts(store),
        process: processListenerCounts(),
        resources: resourceCounts(),
      };
      const commands = countCommands(store);
      let operations = 0;
      for (let round = 0; operations < 1_000; round++) operations += await failedOperations(cache, round);
      commands.restore();
      // Let the reconnect loop fail a few more times (back-off is 50 ms doubling up to 2 s).
      await sleep(2_500);
      const after = {
        client: listenerCounts(client),
        store: listenerCounts(store),
        process: processListenerCounts(),
        resources: resourceCounts(),
      };
      report('leaks: failed operations', operations, 'operations');
      report('leaks: commands handed to node-redis (breaker off)', commands.count, 'commands');
      report(
        'leaks: node-redis client listeners before -> after',
        `${JSON.stringify(before.client)} -> ${JSON.stringify(after.client)}`,
      );
      report(
        'leaks: active resources before -> after',
        `${JSON.stringify(before.resources)} -> ${JSON.stringify(after.resources)}`,
      );
      expect(commands.count).toBeGreaterThanOrEqual(1_000);
      expect(cache.stats().totals.storeErrors).toBeGreaterThan(500);
      expect(after.client).toEqual(before.client);
      expect(after.store).toEqual(before.store);
      expect(after.process).toEqual(before.process);
      // Small noise allowed (a reconnect timer, a socket being tried), never per-operation growth.
      const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);
      expect(total(after.resources)).toBeLessThanOrEqual(total(before.resources) + 3);
      expect(after.resources.Timeout ?? 0).toBeLessThanOrEqual((before.resources.Timeout ?? 0) + 2);
      expect(after.resources.TCPSocketWrap ?? 0).toBeLessThanOrEqual(
        (before.resources.TCPSocketWrap ?? 0) + 1,
      );
      expect(warnings.map((warning) => `${warning.name}: ${warning.message}`)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  }, 30_000);

  it('heap plateaus: 16 batches of 2000 failed operations', async () => {
    const { cache } = await deadRedisCache('heap', { breaker: { failureThreshold: 1_000_000 } });
    const gc = forcedGc();
    const batch = 2_000;
    const heap: number[] = [];
    for (let index = 0; index < 16; index++) {
      let operations = 0;
      for (let round = 0; operations < batch; round++) operations += await failedOperations(cache, round);
      gc();
      heap.push(process.memoryUsage().heapUsed);
    }
    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100;
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    report('leaks: heapUsed after each batch of 2000 failed operations (MB)', heap.map(mb).join(', '), '');
    // The first batches warm up (JIT, lazily built objects: ~0.3 MB over ~20000 operations here);
    // compare batches 6-8 with batches 14-16, eight batches apart, by their medians (a forced GC
    // still leaves some noise).
    const growth = median(heap.slice(13, 16)) - median(heap.slice(5, 8));
    const perOperation = growth / (8 * batch);
    report('leaks: heap growth, batches 6-8 -> 14-16 (16000 operations)', mb(growth), 'MB');
    report('leaks: retained per failed operation', Math.max(0, perOperation), 'bytes');
    // Without a leak this stays within a few bytes (GC noise); one small object kept per store
    // operation ({ operation, key, at }, tried on purpose) retains over 100 bytes per operation.
    expect(perOperation).toBeLessThan(40);
  }, 60_000);

  it('the breaker keeps 1000 getOrSet calls on a dead Redis to a handful of store commands, and probes it back', async () => {
    const { cache, store } = await deadRedisCache('breaker');
    const commands = countCommands(store);
    let fetched = 0;
    for (let batch = 0; batch < 100; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          cache.getOrSet(`catalog:${batch}:${index}`, () => {
            fetched++;
            return index;
          }),
        ),
      );
      expect(answers).toEqual(Array.from({ length: 10 }, (_, index) => index));
    }
    report('breaker: getOrSet calls on a dead Redis', 1_000, 'calls');
    report('breaker: commands handed to the Redis connection for them', commands.count, 'commands');
    expect(fetched).toBe(1_000);
    expect(cache.stats().store.breaker).toBe('open');
    expect(commands.count).toBeLessThanOrEqual(25);

    // Spread over 3.2 s: about one probe per 1 s cooldown gets through, no more.
    const beforeSpread = commands.count;
    const until = performance.now() + 3_200;
    let calls = 0;
    while (performance.now() < until) {
      await cache.getOrSet(`spread:${calls++}`, () => 'fetched');
      await sleep(10);
    }
    const probes = commands.count - beforeSpread;
    commands.restore();
    report('breaker: calls over 3.2 s with Redis dead', calls, 'calls');
    report('breaker: probes that reached the connection in 3.2 s (cooldown 1 s)', probes, 'commands');
    expect(calls).toBeGreaterThan(100);
    expect(probes).toBeGreaterThanOrEqual(2);
    expect(probes).toBeLessThanOrEqual(5);
  }, 30_000);
});
