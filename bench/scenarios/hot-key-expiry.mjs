import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { isPageOf, orderPage, wrongValue } from '../lib/fixtures.mjs';
import { percentile } from '../lib/stats.mjs';

const PROCESSES = 4;
const CALLERS = 64;
// The quick run shares 2 cores with two other 4-process units (jobs: 3): with 64 callers each its
// reads pass the cache's 250 ms operation timeout. It checks the code paths, not the figures.
const QUICK_CALLERS = 16;
// A slow upstream: long enough that a caller who waits for it stands out of any hit's latency.
export const FETCH_MS = 50;
// Each caller pauses this long between its rounds: the callers are requests arriving, not a closed
// loop saturating the CPU (on a 2-core machine a saturated loop measures the run queue, and a
// caller waiting for the fetch would hide in it). ~50 rounds per caller per 1 s period.
const THINK_MS = 20;
const HOT_INDEX = 7;
const HIT_INDEX = 8;
// Full run: a 1 s ttl crossed 4 times. Quick (CI smoke): a 500 ms ttl crossed twice; not shorter,
// since the last 20% of the ttl must hold a caller's pause and the fetch (20 + 50 ms) for an eager
// refresh to land before the entry runs out.
const FULL = { ttlMs: 1_000, periods: 4 };
const QUICK = { ttlMs: 500, periods: 2 };
// After the callers stop: long enough for a refresh they started to have counted its fetch.
const SETTLE_MS = 3 * FETCH_MS;

/** The numbers every subject's freshness variants are configured from (see lib/handles.mjs). */
export function expiryParams(quick) {
  const { ttlMs, periods } = quick ? QUICK : FULL;
  return {
    callers: quick ? QUICK_CALLERS : CALLERS,
    ttlMs,
    periods,
    runMs: ttlMs * periods,
    // Far more than a refresh takes: no subject runs out of grace while its refresh is in flight.
    graceMs: 5 * ttlMs,
    // Well below FETCH_MS, so a soft timeout visibly answers before the fetch does.
    softTimeoutMs: 10,
    refreshFraction: 0.8,
  };
}

const now = () => Date.now();
const stamp = (page) => Object.assign(page, { fetchedAt: now() });

/**
 * A hot key crossing its expiry (issue 15): 64 callers in each of 4 processes call getOrSet on one
 * key with a short ttl, over several ttl periods, through each freshness feature the subject has
 * (`handle.freshness`: ours eagerRefresh and softTimeout, bentocache grace with timeout 0 and with
 * a soft timeout, cache-manager's refreshThreshold, cachified's staleWhileRevalidate). Each round
 * a caller also calls a second key of the same variant that never expires, so the hit latency it is
 * compared with is measured by the same callers, at the same moments, under the same load. The
 * fetcher takes FETCH_MS and counts itself in a shared Redis counter; its value carries a version
 * and when it was fetched. Every value is checked (right key, a version, not older than ttl +
 * grace): a wrong, missing or expired value fails the run.
 */
export default {
  name: 'hot-key-expiry',
  title: 'hot key crossing its expiry, 64 callers x 4 processes: fetches per refresh, p50 / p99 vs a hit',
  tiers: ['redis', 'tiered'],
  subjects: [
    'redis-ours',
    'redis-bentocache',
    'redis-cache-manager',
    'redis-cachified',
    'tiered-ours',
    'tiered-bentocache',
  ],
  async run(handle, ctx, ipc) {
    const variants = Object.keys(handle.freshness ?? {});
    if (variants.length === 0) throw new Error(`${ctx.subject} has no freshness feature`);
    const p = expiryParams(ctx.quick);
    const counter = createClient({ url: ctx.redisUrl });
    counter.on('error', () => {});
    await counter.connect();
    const measured = {};
    try {
      for (const variant of variants) {
        measured[variant] = await runVariant(handle, ctx, ipc, counter, variant, variants, p);
      }
    } finally {
      await counter.close();
    }
    return { measured };
  },

  /** Runner side: 4 workers on one prefix; per variant, start them together, merge what they saw. */
  async coordinate(launch, ctx) {
    const workers = Array.from({ length: PROCESSES }, (_, n) => launch({ role: `p${n}` }));
    try {
      const first = await Promise.all(workers.map((worker) => worker.next('ready')));
      const variants = first[0].variants;
      const figures = { expiryVariants: variants.length };
      for (const variant of variants) {
        if (variant !== variants[0])
          await Promise.all(workers.map((worker) => worker.next('ready', (m) => m.variant === variant)));
        // Written once all are ready (a worker may take longer to start than a quick run's ttl), so
        // the run begins on a fresh entry.
        workers[0].send({ type: 'prime', variant });
        await workers[0].next('primed', (m) => m.variant === variant);
        // A common start on the shared wall clock, a little ahead so every worker is waiting for it.
        const startAt = Date.now() + 50;
        for (const worker of workers) worker.send({ type: 'go', variant, startAt });
      }
      const results = await Promise.all(workers.map((worker) => worker.result));
      const p = expiryParams(ctx.quick);
      for (const variant of variants) {
        const parts = results.map((result) => result.measured[variant]);
        const shared = Number(await ctx.admin.get(counterKeyOf(ctx.prefix, variant)));
        const local = parts.reduce((sum, part) => sum + part.fetchStarts.length, 0);
        if (shared !== local)
          throw new Error(`${variant}: shared fetch counter says ${shared}, the processes counted ${local}`);
        Object.assign(figures, prefixed(variant, summarize(parts, p)));
      }
      return figures;
    } finally {
      for (const worker of workers) worker.kill();
    }
  },
};

const counterKeyOf = (prefix, variant) => `${prefix}-expiry-fetches-${variant}`;

async function runVariant(handle, ctx, ipc, counter, variant, variants, p) {
  const call = handle.freshness[variant];
  const hotKey = `orders:expiry:${variant}:hot`;
  const hitKey = `orders:expiry:${variant}:hit`;
  const counterKey = counterKeyOf(ctx.prefix, variant);
  const fetchStarts = [];
  const hotFetcher = async () => {
    fetchStarts.push(now());
    const version = await counter.incr(counterKey);
    await sleep(FETCH_MS);
    return stamp(orderPage(HOT_INDEX, version));
  };
  let hitFetches = 0;
  const hitFetcher = async () => {
    hitFetches++;
    await sleep(FETCH_MS);
    return stamp(orderPage(HIT_INDEX, 0));
  };
  // The hit key lives as long as the run's default ttl: it never comes near a refresh point.
  const hitParams = { ...p, ttlMs: ctx.ttlMs };
  // Returns the value's age; past its ttl + grace no subject may serve it.
  const check = (value, index, key, params) => {
    if (!isPageOf(value, index, value?.version) || !Number.isInteger(value.version))
      throw wrongValue(ctx.subject, `${variant} getOrSet(${key})`, value);
    const age = now() - value.fetchedAt;
    if (age > params.ttlMs + params.graceMs)
      throw wrongValue(ctx.subject, `${variant} getOrSet(${key}) served a value ${age} ms old`, value);
    return age;
  };
  ipc.send({ type: 'ready', variant, variants });
  if (ctx.role === 'p0') {
    // One process writes both keys, on the runner's word, just before the start.
    await ipc.next('prime', (message) => message.variant === variant);
    check(await call(hotKey, async () => stamp(orderPage(HOT_INDEX, 0)), p), HOT_INDEX, hotKey, p);
    check(await call(hitKey, hitFetcher, hitParams), HIT_INDEX, hitKey, hitParams);
    hitFetches = 0;
    ipc.send({ type: 'primed', variant });
  }
  const { startAt } = await ipc.next('go', (message) => message.variant === variant);
  const endAt = startAt + p.runMs;
  const hot = [];
  const hit = [];
  let maxAgeMs = 0;
  let regressions = 0;
  const timed = async (key, fetcher, params, index, into) => {
    const before = performance.now();
    const value = await call(key, fetcher, params);
    into.push(performance.now() - before);
    const age = check(value, index, key, params);
    if (index === HOT_INDEX) maxAgeMs = Math.max(maxAgeMs, age);
    return value;
  };
  const caller = async (n) => {
    let lastVersion = 0;
    // Spread the callers' rounds over the pause, as requests would be.
    await sleep(Math.max(0, startAt - now()) + (n * THINK_MS) / p.callers);
    for (let round = 0; now() < endAt; round++) {
      // Alternate which key goes first, so neither always follows the other.
      const hotFirst = (round + n) % 2 === 0;
      if (!hotFirst) await timed(hitKey, hitFetcher, hitParams, HIT_INDEX, hit);
      const value = await timed(hotKey, hotFetcher, p, HOT_INDEX, hot);
      if (hotFirst) await timed(hitKey, hitFetcher, hitParams, HIT_INDEX, hit);
      // One caller's reads never go back to an older version (two reads by different callers may).
      if (value.version < lastVersion) regressions++;
      lastVersion = Math.max(lastVersion, value.version);
      await sleep(THINK_MS);
    }
  };
  await Promise.all(Array.from({ length: p.callers }, (_, n) => caller(n)));
  await sleep(SETTLE_MS);
  const round3 = (values) => values.map((ms) => Math.round(ms * 1000) / 1000);
  return { hot: round3(hot), hit: round3(hit), fetchStarts, hitFetches, maxAgeMs, regressions };
}

/**
 * One variant's figures from the 4 processes' samples. Fetch starts (wall clock, shared by the
 * processes) closer than a quarter ttl to the first of a group belong to one refresh: refreshes
 * of one key are at least ~0.8 ttl apart, so the grouping cannot merge two of them.
 */
function summarize(parts, p) {
  const hot = parts.flatMap((part) => part.hot).sort((a, b) => a - b);
  const hit = parts.flatMap((part) => part.hit).sort((a, b) => a - b);
  const starts = parts.flatMap((part) => part.fetchStarts).sort((a, b) => a - b);
  const groups = [];
  for (const start of starts) {
    const group = groups.at(-1);
    if (group !== undefined && start - group.first < p.ttlMs / 4) group.size++;
    else groups.push({ first: start, size: 1 });
  }
  const p99Ms = percentile(hot, 99);
  const hitP99Ms = percentile(hit, 99);
  return {
    callersPerProcess: p.callers,
    ttlMs: p.ttlMs,
    periods: p.periods,
    fetches: starts.length,
    fetchesPerPeriod: starts.length / p.periods,
    refreshes: groups.length,
    maxPerRefresh: Math.max(0, ...groups.map((group) => group.size)),
    calls: hot.length,
    p50Ms: percentile(hot, 50),
    p99Ms,
    maxMs: hot.at(-1),
    hitP50Ms: percentile(hit, 50),
    hitP99Ms,
    p99Ratio: p99Ms / hitP99Ms,
    // Calls as long as a fetch: a caller that waited for the upstream (or a machine hiccup, which
    // the hit key's count shows).
    waited: hot.filter((ms) => ms >= FETCH_MS).length,
    hitWaited: hit.filter((ms) => ms >= FETCH_MS).length,
    // The never-expiring key fetched: a read that failed or timed out was answered as a miss.
    hitFetches: parts.reduce((sum, part) => sum + part.hitFetches, 0),
    maxAgeMs: Math.max(...parts.map((part) => part.maxAgeMs)),
    regressions: parts.reduce((sum, part) => sum + part.regressions, 0),
  };
}

function prefixed(variant, figures) {
  return Object.fromEntries(Object.entries(figures).map(([name, value]) => [`${variant}.${name}`, value]));
}
