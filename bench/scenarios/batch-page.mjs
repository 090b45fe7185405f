import { setTimeout as sleep } from 'node:timers/promises';
import { isPageOf, KEY_COUNT, PAGES, wrongValue } from '../lib/fixtures.mjs';
import { median } from '../lib/stats.mjs';

const ROUNDS = 20;
// One upstream round trip (a page API, a database query): what a batch saves is these, not CPU.
export const UPSTREAM_MS = 5;

/**
 * A 100-key page with half of it cached (issue 15): how many upstream calls and how long for the
 * whole page. Each subject loads the page two ways in the same run, on fresh keys every round:
 * `batch` is its batch load (ours: getManyOrSet; cache-manager: mget, one upstream call for the
 * misses, mset, written by hand since it has no batch wrap; bentocache has neither a batch
 * get-or-set nor a multi-get, so it has no batch figure), `singles` is 100 concurrent getOrSet
 * calls, one upstream call per miss. `speedup` = singles wall / batch wall, medians over rounds.
 */
export default {
  name: 'batch-page',
  title: '100-key page, 50% cached: upstream calls and wall, batch vs 100 getOrSet',
  tiers: ['memory', 'redis'],
  subjects: [
    'memory-ours',
    'memory-cache-manager',
    'memory-bentocache',
    'redis-ours',
    'redis-cache-manager',
    'redis-bentocache',
  ],
  async run(handle, ctx) {
    const upstream = { calls: 0 };
    const fetchPage = async (index) => {
      upstream.calls++;
      await sleep(UPSTREAM_MS);
      return PAGES[index];
    };
    // One call for many keys, answered as an array aligned with them.
    const fetchMany = async (keys) => {
      upstream.calls++;
      await sleep(UPSTREAM_MS);
      return keys.map((key) => PAGES[Number(key.slice(key.lastIndexOf(':') + 1))]);
    };
    const variants = {
      singles: (keys) => Promise.all(keys.map((key, index) => handle.getOrSet(key, () => fetchPage(index)))),
    };
    if (handle.loadPage !== undefined) variants.batch = (keys) => handle.loadPage(keys, fetchMany);
    const figures = {};
    for (const [variant, load] of Object.entries(variants)) {
      const walls = [];
      const calls = [];
      for (let round = 0; round < ROUNDS; round++) {
        const keys = Array.from(
          { length: KEY_COUNT },
          (_, index) => `${ctx.prefix}:page:${variant}:${round}:${index}`,
        );
        for (let index = 0; index < KEY_COUNT; index += 2) await handle.set(keys[index], PAGES[index]);
        upstream.calls = 0;
        const started = performance.now();
        const values = await load(keys);
        walls.push(performance.now() - started);
        calls.push(upstream.calls);
        values.forEach((value, index) => {
          if (!isPageOf(value, index))
            throw wrongValue(ctx.subject, `${variant} load of ${keys[index]}`, value);
        });
      }
      figures[`${variant}WallMs`] = median(walls);
      figures[`${variant}UpstreamCalls`] = median(calls);
    }
    if (figures.batchWallMs !== undefined) figures.speedup = figures.singlesWallMs / figures.batchWallMs;
    return figures;
  },
};
