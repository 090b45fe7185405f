import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { type RedisStore, redisStore } from '@org/cache-redis';
import {
  countCommands,
  freePort,
  Latencies,
  type RedisServer,
  redisCommand,
  report,
  settle,
  startRedisServer,
  trapUnhandled,
  waitFor,
} from '@org/cache-test-support';
import { afterAll, describe, expect, it } from 'vitest';

// Redis unreachable when the service starts: the cache must start anyway, answer every call
// within a bound, fall back to the fetcher, and come back by itself once Redis is there.
// Default cache options (operationTimeout 250 ms, breaker 5 failures / 1 s cooldown).

/** A correctness bound, not a performance target: "no caller hangs". */
const CALLER_BOUND_MS = 1_000;
/** Reconnect back-off is capped at 2 s (plus jitter) and the breaker cooldown is 1 s. */
const RECOVERY_BOUND_MS = 6_000;

const servers: RedisServer[] = [];
const caches: Cache[] = [];
afterAll(async () => {
  await Promise.allSettled(caches.map((cache) => cache.close()));
  await Promise.allSettled(servers.map((server) => server.stop()));
});

/** A cache over a redisStore pointing at `port`, nothing listening there (yet). */
function cacheOn(port: number, prefix: string): { cache: Cache; store: RedisStore } {
  const store = redisStore({ url: `redis://127.0.0.1:${port}` });
  const cache = createCache({ store, prefix });
  caches.push(cache);
  return { cache, store };
}

describe('Redis down at start-up', () => {
  it('starts, bounds every call, falls back to the fetcher, drops and counts writes, says why it is down', async () => {
    const port = await freePort();
    const trap = trapUnhandled();
    const { cache } = cacheOn(port, 'startup');
    const latencies = new Latencies();

    try {
      // The very first calls race the first connection attempt.
      const first = await Promise.all([
        settle(() => latencies.time(() => cache.get('orders:1'))),
        settle(() => latencies.time(() => cache.getOrSet('orders:2', () => ({ id: 2, from: 'source' })))),
        settle(() => latencies.time(() => cache.set('orders:3', { id: 3 }))),
      ]);
      expect(first.map((outcome) => outcome.ok)).toEqual([true, true, true]);
      expect(first[0]).toMatchObject({ value: undefined });
      expect(first[1]).toMatchObject({ value: { id: 2, from: 'source' } });

      // Then each kind of call once more, sequentially.
      expect(await latencies.time(() => cache.get('orders:1'))).toBeUndefined();
      expect(await latencies.time(() => cache.getOrSet('orders:4', () => 'fetched'))).toBe('fetched');
      await latencies.time(() => cache.set('orders:5', 'dropped'));
      const deleted = await settle(() => latencies.time(() => cache.delete('orders:1')));
      const invalidated = await settle(() => latencies.time(() => cache.invalidateTags(['account:1'])));
      expect(deleted.ok).toBe(false);
      expect(invalidated.ok).toBe(false);
      for (const outcome of [deleted, invalidated]) {
        if (outcome.ok) continue;
        expect(isCacheError(outcome.error)).toBe(true);
        expect((outcome.error as { code: string }).code).toMatch(/^E_STORE_/);
      }

      report(
        'start-up, Redis down: worst caller latency (get/getOrSet/set/delete/invalidateTags)',
        latencies.worst,
      );
      report('start-up, Redis down: calls measured', latencies.count, 'calls');
      expect(latencies.worst).toBeLessThan(CALLER_BOUND_MS);

      const stats = cache.stats();
      // set('orders:3'), set('orders:5') and the two getOrSet writes were all dropped.
      expect(stats.totals.droppedWrites).toBeGreaterThanOrEqual(4);
      expect(stats.totals.storeErrors).toBeGreaterThanOrEqual(stats.totals.droppedWrites);

      const health = await settle(() => cache.health());
      expect(health.ok).toBe(true);
      if (!health.ok) return;
      report('start-up, Redis down: health() latency', health.ms);
      expect(health.ms).toBeLessThan(CALLER_BOUND_MS);
      expect(health.value.status).toBe('down');
      expect(health.value.store.name).toBe('redis');
      expect(health.value.store.reason).toEqual(expect.any(String));
      expect(health.value.store.reason).not.toBe('');
      report('start-up, Redis down: health() reason', health.value.store.reason ?? '');
    } finally {
      trap.stop();
    }
    expect(trap.errors).toEqual([]);
  }, 10_000);

  it('works by itself within seconds once Redis starts on that port, and health() turns up', async () => {
    const port = await freePort();
    const { cache, store } = cacheOn(port, 'startup-recovery');
    // Long enough down that the reconnect back-off reaches its cap and the breaker is open.
    for (let index = 0; index < 20; index++) await cache.getOrSet(`warm:${index}`, () => index);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(cache.stats().store.breaker).toBe('open');
    expect((await cache.health()).status).toBe('down');

    const server = await startRedisServer({ port });
    servers.push(server);
    const started = performance.now();
    const commands = countCommands(store);
    let attempts = 0;
    const recoveredIn = await waitFor(
      'set then get through the cache after Redis started',
      async () => {
        attempts++;
        const dropped = cache.stats().totals.droppedWrites;
        await cache.set('back', { attempt: attempts });
        if (cache.stats().totals.droppedWrites !== dropped) return false;
        return (await cache.get<{ attempt: number }>('back'))?.attempt === attempts;
      },
      { timeoutMs: RECOVERY_BOUND_MS + 4_000, intervalMs: 50 },
    );
    commands.restore();
    report('start-up: recovery time (server answering -> first successful set+get)', recoveredIn);
    report('start-up: recovery attempts (set+get rounds)', attempts, 'rounds');
    expect(recoveredIn).toBeLessThan(RECOVERY_BOUND_MS);

    // The value really is in Redis, written as plain JSON by the adapter.
    const health = await cache.health();
    expect(health).toMatchObject({ status: 'up', store: { breaker: 'closed' } });
    expect(health.store.reason).toBeUndefined();
    report('start-up: total time from server start to health up', performance.now() - started);
    expect(await cache.getOrSet('after', () => 'fetched once')).toBe('fetched once');
    expect(await cache.getOrSet('after', () => 'fetched twice')).toBe('fetched once');
  }, 20_000);

  it('has() on an unreachable Redis answers false promptly and counts the store error, like get()', async () => {
    const port = await freePort();
    const { cache } = cacheOn(port, 'startup-has');
    expect(await cache.get('orders:1')).toBeUndefined();
    const afterGet = cache.stats().totals.storeErrors;
    expect(afterGet).toBe(1);
    const has = await settle(() => cache.has('orders:1'));
    expect(has).toMatchObject({ ok: true, value: false });
    expect(has.ms).toBeLessThan(CALLER_BOUND_MS);
    // A failure deliberately absorbed must be counted (STYLE.md "Errors"), or an outage looks
    // like an empty cache.
    expect(cache.stats().totals.storeErrors).toBe(afterGet + 1);
  }, 10_000);

  it('a write dropped while Redis was unreachable never lands later, over a newer value', async () => {
    const port = await freePort();
    const { cache: early } = cacheOn(port, 'ghost');
    // Dropped and counted: the caller is told the value is not cached.
    await early.set('orders:9', 'written while Redis was down');
    expect(early.stats().totals.droppedWrites).toBe(1);

    // Long enough for the early client's reconnect back-off to grow past a few hundred ms.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const server = await startRedisServer({ port });
    servers.push(server);
    // Another instance, connected at once, writes a newer value.
    const { cache: late } = cacheOn(port, 'ghost');
    await late.set('orders:9', 'newer');
    expect(await late.get('orders:9')).toBe('newer');

    // Once the early client has reconnected, the newer value must still be there.
    await waitFor('the early cache reconnected', async () => (await early.health()).status === 'up', {
      timeoutMs: RECOVERY_BOUND_MS,
    });
    const raw = await redisCommand(server.port, ['GET', 'ghost:orders:9']);
    report('start-up: value in Redis after the early client reconnected', String(raw));
    expect(await late.get('orders:9')).toBe('newer');
  }, 15_000);
});
