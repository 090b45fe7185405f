import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type RedisServer, redisCommand, startRedisServer, uniquePrefix } from '@org/cache-test-support';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Instance,
  now,
  percentile,
  type ReadRecord,
  report,
  sleep,
  startInstances,
  stopAllInstances,
  type Timed,
  waitUntil,
} from './support/instances.js';
import {
  expectCoherentThroughKills,
  expectNoStale,
  fillL1,
  GUARANTEE_MS,
  LATENCY_LIMIT_MS,
  olderThanAcknowledged,
  propagation,
  redisCliSet,
} from './support/tracking-checks.js';

// `coherence: 'tracking'` with real processes on a private redis-server: each instance's L1 is
// kept coherent by Redis client tracking, with no bus. The guarantee under test: a read that
// starts GUARANTEE_MS after a write's acknowledgement never returns the value it replaced,
// whoever wrote (another instance, `redis-cli`), across killed tracking connections and restarts.

const TRIALS = 50;
const run = promisify(execFile);

const servers: RedisServer[] = [];
afterEach(async () => {
  await stopAllInstances();
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function setUp(label: string, serverArgs: string[] = []) {
  const server = await startRedisServer({ args: serverArgs });
  servers.push(server);
  const shared = {
    url: server.url,
    channel: 'unused',
    prefix: uniquePrefix(label),
    coherence: 'tracking' as const,
  };
  const [a, b] = (await startInstances([
    { name: 'A', ...shared },
    { name: 'B', ...shared },
  ])) as [Instance, Instance];
  return { server, a, b, prefix: shared.prefix };
}

// Forking instances and waiting on Redis takes seconds: a bounded but generous timeout per test.
describe("tieredStore({ coherence: 'tracking' }) across processes", { timeout: 60_000 }, () => {
  it(`B's set drops A's L1 copy: A's next read fetches the new value (${TRIALS} trials, latency reported)`, async () => {
    const { a, b } = await setUp('tracking-set');
    const key = 'orders:detail:801';
    await b.set(key, { version: 0 });
    await fillL1(a, key, { version: 0 });
    const fromEnd: number[] = [];
    for (let trial = 1; trial <= TRIALS; trial++) {
      expect(await a.probe(key)).toEqual({ value: { version: trial - 1 }, l1Hit: true, l2Read: false });
      const measured = await propagation(a, key, { version: trial }, () => b.set(key, { version: trial }));
      expect(measured.seen).toEqual([{ version: trial - 1 }]);
      fromEnd.push(measured.fromEnd);
      await fillL1(a, key, { version: trial });
    }
    const stats = await a.stats();
    report(
      `tracking: B's set -> seen by A, from the end of B's set (${TRIALS} trials, A polling every 1 ms)`,
      `p50 ${percentile(fromEnd, 50).toFixed(2)} ms, p99 ${percentile(fromEnd, 99).toFixed(2)} ms, max ${Math.max(...fromEnd).toFixed(2)} ms; A received ${stats.tracking.invalidations} invalidations`,
    );
    // Polling every ms, over IPC: what A's poll adds to the push's own latency is in here too.
    expect(percentile(fromEnd, 99)).toBeLessThan(LATENCY_LIMIT_MS);
    expect(stats.tracking.invalidations).toBeGreaterThanOrEqual(TRIALS);
    expect(stats.tracking.losses).toBe(0);
    expect(stats.l1InUse).toBe(true);
  });

  it('a plain SET from redis-cli drops A’s L1 copy; a redis-cli DEL too', async () => {
    const { server, a, b, prefix } = await setUp('tracking-cli');
    const key = 'orders:detail:802';
    await b.set(key, 'before');
    await b.set('orders:detail:template', 'from redis-cli');
    // A value core can read, written by redis-cli as raw text: another entry's stored envelope.
    const envelope = String(await redisCommand(server.port, ['GET', `${prefix}:orders:detail:template`]));
    expect(envelope).toContain('from redis-cli');
    const fromEnd: number[] = [];
    for (let trial = 1; trial <= 10; trial++) {
      await b.set(key, 'before');
      await sleep(GUARANTEE_MS); // A held 'from redis-cli': its drop may take up to the bound
      await fillL1(a, key, 'before');
      const measured = await propagation(a, key, 'from redis-cli', () =>
        redisCliSet(server.port, `${prefix}:${key}`, envelope),
      );
      expect(measured.seen).toEqual(['before']);
      fromEnd.push(measured.fromEnd);
      // The guarantee itself: a read that starts over GUARANTEE_MS after the write is never stale.
      await b.set(key, 'before');
      await sleep(GUARANTEE_MS);
      await fillL1(a, key, 'before');
      await redisCliSet(server.port, `${prefix}:${key}`, envelope);
      await sleep(GUARANTEE_MS);
      expect(await a.get(key)).toBe('from redis-cli');
    }
    await fillL1(a, key, 'from redis-cli');
    const deleted = await propagation(a, key, undefined, async () => {
      const start = now();
      await run('redis-cli', ['-p', String(server.port), 'DEL', `${prefix}:${key}`]);
      return { start, end: now() };
    });
    report(
      'tracking: redis-cli SET -> seen by A, from the end of redis-cli (10 trials)',
      `p50 ${percentile(fromEnd, 50).toFixed(2)} ms, max ${Math.max(...fromEnd).toFixed(2)} ms; redis-cli DEL -> miss in ${deleted.fromEnd.toFixed(2)} ms`,
    );
    expect(Math.max(...fromEnd, deleted.fromEnd)).toBeLessThan(LATENCY_LIMIT_MS);
    expect(await a.get(key)).toBeUndefined();
  });

  it('A’s tracking connection is killed again and again (CLIENT KILL) while B writes: 0 stale reads, L1 back in use after', async () => {
    const { server, a, b } = await setUp('tracking-kill');
    const keys = ['orders:series:1', 'orders:series:2', 'orders:series:3'];
    const versions = await expectCoherentThroughKills(a, b, keys, {
      port: server.port,
      versions: 100,
      label:
        'tracking: CLIENT KILL of A’s tracked connection every ~15 ms while B writes 3 keys x 100 versions',
    });
    // Tracking came back by itself, and L1 with it: a write is seen again.
    const key = keys[0] as string;
    const last = versions.get(key) ?? 0;
    await fillL1(a, key, last);
    const propagated = await propagation(a, key, last + 1, () => b.set(key, last + 1));
    expect(propagated.fromEnd).toBeLessThan(LATENCY_LIMIT_MS);
  });

  it('redis-server is killed and restarted mid-load (data kept by AOF): 0 stale reads, L1 back in use after', async () => {
    const { server, a, b } = await setUp('tracking-restart', [
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ]);
    const keys = ['orders:series:1', 'orders:series:2'];
    for (const key of keys) await b.set(key, 0);
    for (const key of keys) await fillL1(a, key, 0);
    const before = await a.stats();
    await a.watch(keys, { readers: 4, intervalMs: 1, afterIo: true });
    await sleep(30);
    const writes = new Map<string, Timed[]>(keys.map((key) => [key, []]));
    const write = async (version: number) => {
      for (const key of keys) {
        writes.get(key)?.push(await b.request<Timed>('setWhenUp', { key, value: version }));
      }
    };
    for (let version = 1; version <= 20; version++) await write(version);
    const killedAt = now();
    await server.kill();
    await server.restart();
    // B writes as soon as Redis takes writes again: A's tracking may not be back yet.
    for (let version = 21; version <= 60; version++) await write(version);
    // Core's breaker opened during the outage: A answers misses until its probe finds Redis back.
    await waitUntil(
      'A reads Redis again',
      async () => (await a.stats()).l1InUse && (await a.get(keys[0] as string)) === 60,
    );
    for (let version = 61; version <= 80; version++) await write(version);
    await sleep(50);
    const records = await a.unwatch();
    const after = await a.stats();
    const stale = keys.flatMap((key) => olderThanAcknowledged(records, key, writes.get(key) ?? []));
    const afterRestart = records.filter((read) => read.start > killedAt);
    report(
      'tracking: redis-server killed + restarted while B writes',
      `${records.length} reads on A (${records.filter((read) => read.error).length} errors, ${afterRestart.length} after the kill), ${stale.length} stale; tracking losses +${after.tracking.losses - before.tracking.losses}, stalls +${after.tracking.stalls - before.tracking.stalls}, invalidations +${after.tracking.invalidations - before.tracking.invalidations}, l1Resets +${after.l1Resets - before.l1Resets}`,
    );
    if (stale.length > 0) {
      const first = stale[0] as ReadRecord;
      report(
        'tracking: restart, first stale read',
        JSON.stringify({
          read: first,
          killedAt,
          writes: (writes.get(first.key) ?? []).slice(0, (first.value as number) + 3),
        }),
      );
    }
    expectNoStale(stale, records.length, 'reads around the restart');
    expect(records.length).toBeGreaterThan(1_000);
    expect(afterRestart.filter((read) => typeof read.value === 'number').length).toBeGreaterThan(100);
    expect(after.tracking.losses).toBeGreaterThan(before.tracking.losses);
    expect(after.l1Resets).toBeGreaterThan(before.l1Resets);
    await fillL1(a, keys[0] as string, 80);
  });

  it('a tag invalidated by B is seen on A’s next tagged read; with nothing changed, a tagged read is an L1 hit', async () => {
    const { a, b } = await setUp('tracking-tags');
    await b.set('catalog:bundle:1', 'bundle one', { tags: ['product:A'] });
    await b.set('catalog:bundle:2', 'bundle two', { tags: ['product:B'] });
    await fillL1(a, 'catalog:bundle:1', 'bundle one');
    await fillL1(a, 'catalog:bundle:2', 'bundle two');
    // The entry and its tag token are both in A's L1: no round trip at all.
    expect(await a.probe('catalog:bundle:1')).toEqual({ value: 'bundle one', l1Hit: true, l2Read: false });
    const measured = await propagation(a, 'catalog:bundle:1', undefined, () =>
      b.invalidateTags(['product:A']),
    );
    report(
      'tracking: B invalidates a tag -> A’s dependent misses',
      `${measured.fromEnd.toFixed(2)} ms after B's call ended`,
    );
    expect(measured.fromEnd).toBeLessThan(LATENCY_LIMIT_MS);
    expect(await a.probe('catalog:bundle:2')).toEqual({ value: 'bundle two', l1Hit: true, l2Read: false });
  });
});
