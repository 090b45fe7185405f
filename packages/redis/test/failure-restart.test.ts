import { type Cache, type CacheOptions, createCache } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import {
  Latencies,
  type RedisServer,
  redisCommand,
  report,
  settle,
  sleep,
  startRedisServer,
  waitFor,
} from '@org/cache-test-support';
import { afterAll, describe, expect, it } from 'vitest';

// Redis stopped cleanly (SIGTERM: it closes every client connection) and started again on the
// same port, empty (the harness runs it without persistence). The client must reconnect by
// itself; fetch leases held across the restart must not hold anyone up beyond their ttl.

/** Correctness bounds, not performance targets. */
const CALLER_BOUND_MS = 1_000;
const RECOVERY_BOUND_MS = 6_000;

const servers: RedisServer[] = [];
const caches: Cache[] = [];
afterAll(async () => {
  await Promise.allSettled(caches.map((cache) => cache.close()));
  await Promise.allSettled(servers.map((server) => server.stop()));
});

function cacheOn(server: { url: string }, prefix: string, options: Partial<CacheOptions> = {}): Cache {
  const cache = createCache({ store: redisStore({ url: server.url }), prefix, ...options });
  caches.push(cache);
  return cache;
}

/** Resolves with the ms until a set then get round-trips through the cache (bounded). */
function recovery(cache: Cache, what: string): Promise<number> {
  let round = 0;
  return waitFor(
    what,
    async () => {
      round++;
      const dropped = cache.stats().totals.droppedWrites;
      await cache.set('recovery-probe', round);
      return cache.stats().totals.droppedWrites === dropped && (await cache.get('recovery-probe')) === round;
    },
    { timeoutMs: RECOVERY_BOUND_MS + 5_000, intervalMs: 50 },
  );
}

describe('Redis stopped cleanly and started again', () => {
  it('restart(): the client reconnects by itself and the cache works again within seconds', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const cache = cacheOn(server, 'restart');
    await cache.set('orders:1', { id: 1 });
    expect(await cache.get('orders:1')).toEqual({ id: 1 });

    const oldPid = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(oldPid);
    const recoveredIn = await recovery(cache, 'set then get after restart()');
    report('restart(): recovery time (restart resolved -> first successful set+get)', recoveredIn);
    expect(recoveredIn).toBeLessThan(RECOVERY_BOUND_MS);
    expect((await cache.health()).status).toBe('up');
    // Empty after the restart: a miss, fetched again and cached again.
    expect(await cache.get('orders:1')).toBeUndefined();
    expect(await cache.getOrSet('orders:1', () => ({ id: 1, refetched: true }))).toEqual({
      id: 1,
      refetched: true,
    });
    expect(await redisCommand(server.port, ['EXISTS', 'restart:orders:1'])).toBe(1);
  }, 15_000);

  it('stopped for 2 s with callers all along, then started on the same port: bounded calls, then back', async () => {
    const first = await startRedisServer();
    const port = first.port;
    const cache = cacheOn(first, 'stopped');
    await cache.set('catalog:1', 'cached');
    await first.stop(); // SIGTERM: Redis closes our connection and exits

    const latencies = new Latencies();
    const answers: unknown[] = [];
    const until = performance.now() + 2_000;
    while (performance.now() < until) {
      answers.push(await latencies.time(() => cache.getOrSet('catalog:1', () => 'from the source')));
      await latencies.time(() => cache.set('catalog:2', 'dropped'));
      await sleep(20);
    }
    report('stopped: worst caller latency while Redis was down (2 s)', latencies.worst);
    expect(latencies.worst).toBeLessThan(CALLER_BOUND_MS);
    expect(new Set(answers)).toEqual(new Set(['from the source']));
    const down = await cache.health();
    expect(down.status).toBe('down');
    report('stopped: health() reason', down.store.reason ?? '');

    const second = await startRedisServer({ port });
    servers.push(second);
    const recoveredIn = await recovery(cache, 'set then get after Redis started again');
    report('stopped: recovery time (new server answering -> first successful set+get)', recoveredIn);
    expect(recoveredIn).toBeLessThan(RECOVERY_BOUND_MS);
    expect((await cache.health()).status).toBe('up');
  }, 20_000);
});

describe('fetch leases across a restart', () => {
  it('a process holding a lease when Redis restarts does not block another beyond the lease ttl', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const lease = { ttl: '3s' } as const;
    const holder = cacheOn(server, 'lease-restart', { lease });
    const waiter = cacheOn(server, 'lease-restart', { lease });

    let finishHolder: (value: string) => void = () => {};
    const held = holder.getOrSet(
      'invoices:42',
      () =>
        new Promise<string>((resolve) => {
          finishHolder = resolve;
        }),
    );
    await waitFor('the holder took the lease', async () =>
      Boolean(await redisCommand(server.port, ['EXISTS', 'lease-restart::lease:invoices:42'])),
    );
    const started = performance.now();
    const waited = settle(() => waiter.getOrSet('invoices:42', () => 'fetched by the waiter'));
    await sleep(100);
    await server.restart(); // the lease is gone with the data
    const outcome = await waited;
    report('lease across restart(): waiter latency (lease ttl 3 s)', outcome.ms);
    expect(outcome).toMatchObject({ ok: true, value: 'fetched by the waiter' });
    expect(performance.now() - started).toBeLessThan(3_000);

    // The holder's late result reaches its own caller but does not overwrite the waiter's.
    finishHolder('fetched by the holder');
    expect(await held).toBe('fetched by the holder');
    await waitFor('the waiter cached its value', async () => (await waiter.get('invoices:42')) !== undefined);
    expect(await waiter.get('invoices:42')).toBe('fetched by the waiter');
    expect(await holder.get('invoices:42')).toBe('fetched by the waiter');
  }, 20_000);

  it('with Redis down, a waiter on a lease falls back to its fetcher within the lease wait', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const lease = { ttl: '1s' } as const;
    const holder = cacheOn(server, 'lease-down', { lease });
    const waiter = cacheOn(server, 'lease-down', { lease });
    let finishHolder: (value: string) => void = () => {};
    const held = holder.getOrSet(
      'invoices:7',
      () =>
        new Promise<string>((resolve) => {
          finishHolder = resolve;
        }),
    );
    await waitFor('the holder took the lease', async () =>
      Boolean(await redisCommand(server.port, ['EXISTS', 'lease-down::lease:invoices:7'])),
    );
    const waited = settle(() => waiter.getOrSet('invoices:7', () => 'fetched by the waiter'));
    await sleep(100);
    await server.kill();
    const outcome = await waited;
    report('lease with Redis killed: waiter latency (lease ttl 1 s)', outcome.ms);
    expect(outcome).toMatchObject({ ok: true, value: 'fetched by the waiter' });
    expect(outcome.ms).toBeLessThan(1_000 + CALLER_BOUND_MS);
    finishHolder('fetched by the holder');
    expect(await held).toBe('fetched by the holder');
  }, 20_000);
});
