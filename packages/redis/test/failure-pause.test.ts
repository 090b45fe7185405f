import { connect, createServer, type Server, type Socket } from 'node:net';
import { type Cache, type CacheOptions, createCache } from '@org/cache-core';
import { storeCapabilities } from '@org/cache-core/adapter';
import { type RedisStore, redisStore } from '@org/cache-redis';
import {
  countCommands,
  type RedisServer,
  redisCommand,
  report,
  runLoad,
  settle,
  sleep,
  startRedisServer,
  trapUnhandled,
  waitFor,
} from '@org/cache-test-support';
import { manualClock } from '@org/cache-testing';
import { afterAll, describe, expect, it } from 'vitest';

// Redis paused with SIGSTOP: the process keeps its sockets open but answers nothing, like a hung
// server or a half-open connection. node-redis still believes it is connected, so only core's
// per-operation deadline (default 250 ms) stands between a caller and a hang.

/** Correctness bounds, not performance targets. */
const CALLER_BOUND_MS = 1_000;
const RECOVERY_BOUND_MS = 5_000;

const servers: RedisServer[] = [];
const caches: Cache[] = [];
afterAll(async () => {
  for (const server of servers) {
    try {
      server.resume();
    } catch {
      // already stopped
    }
  }
  await Promise.allSettled(caches.map((cache) => cache.close()));
  await Promise.allSettled(servers.map((server) => server.stop()));
});

async function setUp(
  prefix: string,
  options: Partial<CacheOptions> = {},
): Promise<{ server: RedisServer; store: RedisStore; cache: Cache }> {
  const server = await startRedisServer();
  servers.push(server);
  const store = redisStore({ url: server.url });
  const cache = createCache({ store, prefix, ...options });
  caches.push(cache);
  return { server, store, cache };
}

const sourceValue = (key: string) => ({ key, from: 'source' });

describe('Redis paused (SIGSTOP): an unresponsive socket', () => {
  it('bounds every caller, falls back to the fetcher, reports down with a timeout, and recovers on resume', async () => {
    const { server, store, cache } = await setUp('pause');
    const keys = Array.from({ length: 40 }, (_, index) => `orders:${index}`);
    for (const key of keys.slice(0, 20)) await cache.set(key, sourceValue(key));
    expect(await cache.get(keys[0] as string)).toEqual(sourceValue(keys[0] as string));
    const trap = trapUnhandled();

    server.pause();
    // node-redis cannot tell: the socket is open. Only the deadline bounds the caller.
    expect(store.connection.isReady).toBe(true);
    const health = await settle(() => cache.health());
    expect(health.ok).toBe(true);
    if (!health.ok) return;
    report('paused: health() latency (first probe, breaker closed)', health.ms);
    report('paused: health() reason', health.value.store.reason ?? '');
    expect(health.ms).toBeLessThan(CALLER_BOUND_MS);
    expect(health.value.status).toBe('down');
    expect(health.value.store.reason).toMatch(/did not answer within 250 ms/);

    const commands = countCommands(store);
    let sawOpen = false;
    const sampler = setInterval(() => {
      if (cache.stats().store.breaker === 'open') sawOpen = true;
    }, 10);
    const wrong: unknown[] = [];
    const load = await runLoad({
      workers: 20,
      durationMs: 1_500,
      step: (worker, iteration) => {
        const key = keys[(worker * 7 + iteration) % keys.length] as string;
        switch (iteration % 3) {
          case 0:
            return {
              operation: 'getOrSet',
              done: cache
                .getOrSet(key, async () => {
                  await sleep(5);
                  return sourceValue(key);
                })
                .then((value) => {
                  if (JSON.stringify(value) !== JSON.stringify(sourceValue(key))) wrong.push(value);
                }),
            };
          case 1:
            return { operation: 'get', done: cache.get(key) };
          default:
            return { operation: 'set', done: cache.set(key, sourceValue(key)) };
        }
      },
    });
    clearInterval(sampler);
    commands.restore();
    trap.stop();

    report('paused: worst caller latency under load (20 workers, 1.5 s)', load.latencies.worst);
    report('paused: p99 caller latency under load', load.latencies.percentile(99));
    report('paused: calls made while paused', load.calls, 'calls');
    report('paused: commands handed to the Redis connection while paused', commands.count, 'commands');
    expect(load.failures).toEqual([]);
    expect(wrong).toEqual([]);
    expect(trap.errors).toEqual([]);
    expect(load.latencies.worst).toBeLessThan(CALLER_BOUND_MS);
    expect(sawOpen).toBe(true);
    // The breaker stops sending to a server that does not answer: a small fraction of the calls
    // reach the connection (the first wave, then about one probe per 1 s cooldown).
    expect(commands.count).toBeLessThan(load.calls / 10);
    const stats = cache.stats();
    expect(stats.totals.droppedWrites).toBeGreaterThan(0);
    expect(stats.totals.storeErrors).toBeGreaterThan(0);
    const whilePaused = await cache.health();
    expect(whilePaused.status).toBe('down');
    expect(whilePaused.store.reason).toMatch(/circuit open|did not answer/);

    server.resume();
    const resumed = performance.now();
    const recoveredIn = await waitFor(
      'set then get after resume',
      async () => {
        const dropped = cache.stats().totals.droppedWrites;
        await cache.set('probe', resumed);
        return cache.stats().totals.droppedWrites === dropped && (await cache.get('probe')) === resumed;
      },
      { timeoutMs: RECOVERY_BOUND_MS + 5_000, intervalMs: 50 },
    );
    report('paused: recovery time (resume -> first successful set+get)', recoveredIn);
    expect(recoveredIn).toBeLessThan(RECOVERY_BOUND_MS);
    expect((await cache.health()).status).toBe('up');

    // Every key the load touched answers promptly again: nothing the pause left behind
    // (a lease taken by a command that timed out, say) holds a caller up.
    const after = await Promise.all(
      keys.map((key) => settle(() => cache.getOrSet(key, () => sourceValue(key)))),
    );
    const worstAfter = Math.max(...after.map((outcome) => outcome.ms));
    report('paused: worst getOrSet latency right after recovery (all 40 keys)', worstAfter);
    expect(after.every((outcome) => outcome.ok)).toBe(true);
    expect(worstAfter).toBeLessThan(CALLER_BOUND_MS);
  }, 30_000);

  it('says degraded, with the latency, when Redis answers but slower than half the deadline', async () => {
    const { server, cache } = await setUp('pause-slow');
    expect((await cache.health()).status).toBe('up');
    server.pause();
    const probe = cache.health();
    await sleep(180);
    server.resume();
    const health = await probe;
    report('slow Redis (paused 180 ms): health() latency', health.store.latencyMs);
    expect(health.status).toBe('degraded');
    expect(health.store.latencyMs).toBeGreaterThan(125);
    expect(health.store.reason).toMatch(/slow: .* against a 250 ms deadline/);
    expect((await cache.health()).status).toBe('up');
  }, 10_000);

  it('close() does not hang on a paused server with commands still waiting for replies', async () => {
    const { server, store, cache } = await setUp('pause-close');
    await cache.set('k', 1);
    server.pause();
    // Timed out for the caller, but node-redis still waits for the reply: close() must not.
    expect(await cache.get('k')).toBeUndefined();
    expect(store.connection.isReady).toBe(true);
    const sockets = () => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
    const socketsBefore = sockets();
    const closed = await settle(() => cache.close());
    await sleep(50); // a destroyed socket leaves the handle list on the next turns of the loop
    const socketsAfter = sockets();
    report('paused: open sockets before -> after close()', `${socketsBefore} -> ${socketsAfter}`);
    server.resume();
    report('paused: cache.close() latency', closed.ms);
    if (!closed.ok) report('paused: cache.close() rejected with', String(closed.error));
    expect(closed).toMatchObject({ ok: true });
    expect(closed.ms).toBeLessThan(2_000);
    // The connection is gone, not left open until the server answers again.
    expect(socketsAfter).toBeLessThan(socketsBefore);
  }, 10_000);
});

/**
 * A TCP proxy in front of a server whose existing connections can be made half-open: bytes are
 * swallowed both ways and nothing is closed, as when a peer vanishes without a FIN or RST (a
 * failover, a NAT or firewall dropping its state). New connections still get through.
 */
async function halfOpenProxy(targetPort: number): Promise<{
  url: string;
  connections: () => number;
  silenceExisting: () => void;
  close: () => Promise<void>;
}> {
  const pairs: Array<{ client: Socket; upstream: Socket; silent: boolean }> = [];
  const proxy: Server = createServer((client) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1' });
    const pair = { client, upstream, silent: false };
    pairs.push(pair);
    client.on('data', (chunk) => {
      if (!pair.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.silent) client.write(chunk);
    });
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    connections: () => pairs.length,
    silenceExisting: () => {
      for (const pair of pairs) pair.silent = true;
    },
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

describe('a half-open connection', () => {
  it('is bounded by the deadline, then given up: the cache works again within seconds over a new connection', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const proxy = await halfOpenProxy(server.port);
    try {
      const store = redisStore({ url: proxy.url });
      const cache = createCache({ store, prefix: 'half-open' });
      caches.push(cache);
      await cache.set('k', 'before');
      expect(await cache.get('k')).toBe('before');
      expect(proxy.connections()).toBe(1);

      proxy.silenceExisting();
      const silent = await settle(() => cache.getOrSet('k2', () => 'fetched'));
      report('half-open: getOrSet latency on the silent connection', silent.ms);
      expect(silent).toMatchObject({ ok: true, value: 'fetched' });
      expect(silent.ms).toBeLessThan(CALLER_BOUND_MS);
      // node-redis cannot tell: to it the connection is up.
      expect(store.connection.isReady).toBe(true);

      // Redis itself is fine and reachable over a new connection: the cache must get there.
      const outcome = await settle(() =>
        waitFor(
          'the cache answering again over a new connection',
          async () => {
            const dropped = cache.stats().totals.droppedWrites;
            await cache.set('k3', 'after');
            return cache.stats().totals.droppedWrites === dropped && (await cache.get('k3')) === 'after';
          },
          { timeoutMs: 10_000, intervalMs: 100 },
        ),
      );
      report(
        'half-open: recovery time over a new connection',
        outcome.ok
          ? outcome.value
          : `not within 10 s (connections through the proxy: ${proxy.connections()})`,
      );
      expect(outcome.ok).toBe(true);
      expect(proxy.connections()).toBeGreaterThan(1);
    } finally {
      await proxy.close();
    }
  }, 20_000);
});

describe('stale values inside the grace window', () => {
  it('a failing fetcher gets the stale value while Redis answers; while paused it gets the fetcher error, promptly', async () => {
    const clock = manualClock(Date.now());
    const { server, cache } = await setUp('grace', { grace: '1m', clock });
    await cache.set('catalog:1', { name: 'old' }, { ttl: '1m' });
    clock.advance('90s'); // past freshness, inside the 1 min grace window
    const failing = () => Promise.reject(new Error('source down'));

    expect(await cache.get('catalog:1')).toBeUndefined();
    expect(await cache.getOrSet('catalog:1', failing)).toEqual({ name: 'old' });
    expect(cache.stats().totals.staleHits).toBe(1);

    // While paused the stale entry cannot be read: the fetcher is the only source, and its
    // error reaches the caller within the deadline instead of a hang.
    server.pause();
    const whilePaused = await settle(() => cache.getOrSet('catalog:1', failing));
    server.resume();
    report('paused: getOrSet with a failing fetcher, latency', whilePaused.ms);
    expect(whilePaused.ok).toBe(false);
    if (!whilePaused.ok) expect((whilePaused.error as Error).message).toBe('source down');
    expect(whilePaused.ms).toBeLessThan(CALLER_BOUND_MS);
    // ... and a working fetcher is answered.
    server.pause();
    const fetched = await settle(() => cache.getOrSet('catalog:1', () => ({ name: 'new' })));
    server.resume();
    expect(fetched).toMatchObject({ ok: true, value: { name: 'new' } });
    expect(fetched.ms).toBeLessThan(CALLER_BOUND_MS);

    // Past the grace window the failure is the caller's again. (The write of 'new', sent while
    // paused, may have landed on resume: go past its lifetime too, 5 min ttl + 1 min grace.)
    await waitFor('breaker closed after resume', async () => (await cache.health()).status === 'up');
    clock.advance('10m');
    await expect(cache.getOrSet('catalog:1', failing)).rejects.toThrow('source down');
  }, 15_000);
});

describe('cross-process leases while Redis is paused', () => {
  it('a process waiting on another one’s lease gives up after its wait, even if Redis stops answering', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const holder = createCache({ store: redisStore({ url: server.url }), prefix: 'lease-pause' });
    const waiter = createCache({
      store: redisStore({ url: server.url }),
      prefix: 'lease-pause',
      lease: { wait: '300ms' },
    });
    caches.push(holder, waiter);

    let finishHolder: (value: string) => void = () => {};
    const holderFetch = holder.getOrSet(
      'invoices:42',
      () =>
        new Promise<string>((resolve) => {
          finishHolder = resolve;
        }),
    );
    await waitFor('the holder took the lease', async () =>
      Boolean(await redisCommand(server.port, ['EXISTS', 'lease-pause::lease:invoices:42'])),
    );

    const started = performance.now();
    const waited = settle(() => waiter.getOrSet('invoices:42', () => 'fetched by the waiter'));
    await sleep(100); // the waiter is polling the lease now
    server.pause();
    const outcome = await Promise.race([waited, sleep(4_000).then(() => undefined)]);
    const elapsed = performance.now() - started;
    server.resume();
    report('paused: lease waiter (wait 300 ms) latency while Redis paused', elapsed);
    finishHolder('fetched by the holder');
    await holderFetch;
    await waited;
    // lease wait (300 ms) + a read, an acquire and a write that each time out (3 x 250 ms).
    expect(outcome).toMatchObject({ ok: true, value: 'fetched by the waiter' });
    expect(elapsed).toBeLessThan(1_500);
  }, 15_000);

  it('a lease taken by an acquire that timed out does not hold the key up after Redis resumes', async () => {
    const { server, store, cache } = await setUp('lease-orphan');
    expect(store[storeCapabilities].leases).toBeDefined();
    // Pause Redis exactly when the lease is requested: the acquire script sits in the socket,
    // core's deadline answers the caller, and Redis runs it on resume. The acquire is the script
    // call with two keys and two arguments (scripts.ts: entry, lease; token, ttl).
    const connection = store.connection;
    const send = connection.command;
    let paused = false;
    const isAcquire = (args: string[]) =>
      (args[0] === 'EVALSHA' || args[0] === 'EVAL') && args[2] === '2' && args.length === 7;
    connection.command = <T>(args: string[], key?: string, readonly?: boolean) => {
      if (!paused && isAcquire(args)) {
        paused = true;
        server.pause();
        // Other traffic fails meanwhile and opens the breaker before the fetch completes.
        for (let index = 0; index < 5; index++) void cache.get(`other:${index}`);
      }
      return send.call(connection, args, key, readonly) as Promise<T>;
    };
    const first = await settle(() =>
      cache.getOrSet('orders:7', async () => {
        await sleep(400);
        return 'first';
      }),
    );
    connection.command = send;
    expect(paused).toBe(true);
    expect(first).toMatchObject({ ok: true, value: 'first' });
    expect(first.ms).toBeLessThan(CALLER_BOUND_MS);
    expect(cache.stats().totals.droppedWrites).toBe(1);

    server.resume();
    await waitFor('health up after resume', async () => (await cache.health()).status === 'up');
    const pttl = await redisCommand(server.port, ['PTTL', 'lease-orphan::lease:orders:7']);
    report('lease left by a timed-out acquire: remaining PTTL after resume', Number(pttl));

    const second = await Promise.race([
      settle(() => cache.getOrSet('orders:7', () => 'second')),
      sleep(3_000).then(() => ({
        ok: false as const,
        error: new Error('still waiting after 3 s'),
        ms: 3_000,
      })),
    ]);
    report('getOrSet on a key whose acquire timed out during the pause, after resume: latency', second.ms);
    expect(second).toMatchObject({ ok: true, value: 'second' });
    expect(second.ms).toBeLessThan(CALLER_BOUND_MS);
  }, 20_000);
});
