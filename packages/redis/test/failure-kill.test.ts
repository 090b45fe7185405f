import { type Cache, createCache } from '@org/cache-core';
import { type RedisStore, redisStore } from '@org/cache-redis';
import {
  countCommands,
  type RedisServer,
  report,
  runLoad,
  settle,
  sleep,
  startRedisServer,
  trapUnhandled,
  waitFor,
} from '@org/cache-test-support';
import { afterAll, describe, expect, it } from 'vitest';

// Redis killed with SIGKILL in the middle of a load, then restarted on the same port (empty: the
// harness runs it without persistence). Default cache options: operationTimeout 250 ms, breaker
// 5 consecutive failures / 1 s cooldown.

/** Correctness bounds, not performance targets. */
const CALLER_BOUND_MS = 1_000;
const RECOVERY_BOUND_MS = 6_000;

const servers: RedisServer[] = [];
const caches: Cache[] = [];
afterAll(async () => {
  await Promise.allSettled(caches.map((cache) => cache.close()));
  await Promise.allSettled(servers.map((server) => server.stop()));
});

const sourceValue = (key: string) => ({ key, total: key.length * 10 });
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

describe('Redis killed mid-load (SIGKILL), then restarted', () => {
  it('never hangs or crashes a caller, always answers getOrSet, opens the breaker, and recovers after restart', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const store: RedisStore = redisStore({ url: server.url });
    const cache = createCache({ store, prefix: 'kill' });
    caches.push(cache);
    const keys = Array.from({ length: 50 }, (_, index) => `orders:summary:${index}`);
    for (const key of keys.slice(0, 25)) await cache.set(key, sourceValue(key));

    const trap = trapUnhandled();
    let killedAt: number | undefined;
    let callsAfterKill = 0;
    let commandsAtKill = 0;
    let commandsAtOpen: number | undefined;
    const commands = countCommands(store);
    const breakerStates = new Set<string>();
    const sampler = setInterval(() => {
      if (killedAt === undefined) return;
      const state = cache.stats().store.breaker;
      breakerStates.add(state);
      if (state === 'open' && commandsAtOpen === undefined) commandsAtOpen = commands.count;
    }, 5);
    const wrong: Array<{ operation: string; key: string; value: unknown }> = [];
    const kill = sleep(500).then(async () => {
      // Counted from the signal on: node-redis may see the socket close before we see the exit.
      killedAt = performance.now();
      commandsAtKill = commands.count;
      await server.kill();
    });

    const load = await runLoad({
      workers: 20,
      durationMs: 3_000,
      step: (worker, iteration) => {
        if (killedAt !== undefined) callsAfterKill++;
        const key = keys[(worker * 13 + iteration) % keys.length] as string;
        switch (iteration % 3) {
          case 0:
            return {
              operation: 'getOrSet',
              done: cache
                .getOrSet(key, async () => {
                  await sleep(2);
                  return sourceValue(key);
                })
                .then((value) => {
                  if (!same(value, sourceValue(key))) wrong.push({ operation: 'getOrSet', key, value });
                }),
            };
          case 1:
            return {
              operation: 'get',
              done: cache.get(key).then((value) => {
                if (value !== undefined && !same(value, sourceValue(key)))
                  wrong.push({ operation: 'get', key, value });
              }),
            };
          default:
            return { operation: 'set', done: cache.set(key, sourceValue(key)) };
        }
      },
    });
    await kill;
    clearInterval(sampler);
    const commandsBeforeOpen = (commandsAtOpen ?? commands.count) - commandsAtKill;
    const commandsWhileOpen = commands.count - (commandsAtOpen ?? commands.count);
    commands.restore();
    trap.stop();

    report(
      'killed: worst caller latency across the load (20 workers, 3 s, kill at 0.5 s)',
      load.latencies.worst,
    );
    report('killed: p99 caller latency', load.latencies.percentile(99));
    report('killed: calls after the kill', callsAfterKill, 'calls');
    report(
      'killed: commands handed to the connection between the kill signal and the breaker opening',
      commandsBeforeOpen,
      'commands',
    );
    report(
      'killed: commands handed to the connection once the breaker had opened (probes)',
      commandsWhileOpen,
      'commands',
    );
    report('killed: breaker states seen after the kill', [...breakerStates].join(', '));
    expect(killedAt).toBeDefined();
    expect(load.failures).toEqual([]); // get, set and getOrSet never reject
    expect(wrong).toEqual([]); // getOrSet always answers with the value, from the cache or the fetcher
    expect(trap.errors).toEqual([]);
    expect(load.latencies.worst).toBeLessThan(CALLER_BOUND_MS);
    expect(breakerStates.has('open')).toBe(true);
    expect(callsAfterKill).toBeGreaterThan(1_000);
    // The breaker stops hammering: the calls in flight at the kill fail and open it (those sent
    // before the socket closed are a race, not counted); then about one probe per 1 s cooldown
    // reaches the connection over the ~2.5 s that remain, whatever the number of calls.
    expect(commandsAtOpen).toBeDefined();
    expect(commandsWhileOpen).toBeGreaterThanOrEqual(1);
    expect(commandsWhileOpen).toBeLessThanOrEqual(6);
    const stats = cache.stats();
    expect(stats.totals.droppedWrites).toBeGreaterThan(0);
    expect(stats.totals.fetches).toBeGreaterThan(0);

    const down = await settle(() => cache.health());
    expect(down).toMatchObject({ ok: true, value: { status: 'down', store: { name: 'redis' } } });
    if (down.ok) report('killed: health() reason', down.value.store.reason ?? '');
    expect(down.ms).toBeLessThan(CALLER_BOUND_MS);

    await server.restart();
    const restarted = performance.now();
    let rounds = 0;
    const recoveredIn = await waitFor(
      'set then get after restart',
      async () => {
        rounds++;
        const dropped = cache.stats().totals.droppedWrites;
        await cache.set('recovered', rounds);
        return cache.stats().totals.droppedWrites === dropped && (await cache.get('recovered')) === rounds;
      },
      { timeoutMs: RECOVERY_BOUND_MS + 5_000, intervalMs: 50 },
    );
    report('killed: recovery time (restart resolved -> first successful set+get)', recoveredIn);
    expect(recoveredIn).toBeLessThan(RECOVERY_BOUND_MS);
    const up = await cache.health();
    expect(up).toMatchObject({ status: 'up', store: { breaker: 'closed' } });
    report('killed: time from restart to health up', performance.now() - restarted);

    // The restarted Redis is empty: every key is fetched again, promptly, and cached again.
    const again = await Promise.all(
      keys.map((key) => settle(() => cache.getOrSet(key, () => sourceValue(key)))),
    );
    const worstAgain = Math.max(...again.map((outcome) => outcome.ms));
    report('killed: worst getOrSet latency after recovery (50 keys)', worstAgain);
    expect(again.every((outcome) => outcome.ok && same(outcome.value, sourceValue(outcome.value.key)))).toBe(
      true,
    );
    expect(worstAgain).toBeLessThan(CALLER_BOUND_MS);
    const fetches = cache.stats().totals.fetches;
    for (const key of keys)
      expect(await cache.getOrSet(key, () => sourceValue(key))).toEqual(sourceValue(key));
    expect(cache.stats().totals.fetches).toBe(fetches);
  }, 30_000);
});
