import { setTimeout as sleep } from 'node:timers/promises';
import { isPageOf, orderPage, wrongValue } from '../lib/fixtures.mjs';

const CALLERS = 1000;
// A slow upstream (Salesforce-like): long enough that every caller arrives while it runs.
export const FETCH_MS = 25;
export const STAMPEDE_KEY = 'orders:summaries:stampede';

/** `callers` getOrSet calls on one cold key in the same tick; every caller must get the value. */
export async function stampede(handle, subject, callers, onFetch) {
  const fetcher = async () => {
    await onFetch();
    await sleep(FETCH_MS);
    return orderPage(7, 1);
  };
  const start = performance.now();
  const pending = [];
  for (let n = 0; n < callers; n++) pending.push(handle.getOrSet(STAMPEDE_KEY, fetcher));
  const values = await Promise.all(pending);
  const wallMs = performance.now() - start;
  for (const value of values) {
    if (!isPageOf(value, 7, 1)) throw wrongValue(subject, 'getOrSet during the stampede', value);
  }
  return { callers, wallMs };
}

/** 1000 concurrent getOrSet of one cold key in one process: how many fetches, how long for all. */
export default {
  name: 'stampede',
  title: '1000-caller stampede, 1 process',
  tiers: ['memory', 'redis', 'tiered'],
  async run(handle, ctx) {
    let fetches = 0;
    const result = await stampede(handle, ctx.subject, CALLERS, () => {
      fetches++;
    });
    return { ...result, fetches };
  },
};
