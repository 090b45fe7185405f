import { KEYS } from '../lib/fixtures.mjs';
import { countingFetchers, pageCheck, populate } from '../lib/kit.mjs';
import { sequential } from '../lib/loops.mjs';

/** getOrSet of a present key, one caller: the cache-aside hot path. The fetcher must never run. */
export default {
  name: 'get-or-set-hit',
  title: 'getOrSet hit, 1 caller',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  async run(handle, ctx) {
    await populate(handle, ctx.subject);
    const { counter, fetchers } = countingFetchers();
    const call = (index) => handle.getOrSet(KEYS[index], fetchers[index]);
    const check = pageCheck(ctx.subject, 'getOrSet');
    await sequential(call, check, ctx.warmupMs);
    const result = await sequential(call, check, ctx.durationMs);
    if (counter.fetches > 0) {
      throw Object.assign(
        new Error(`${ctx.subject}: getOrSet of present keys ran the fetcher ${counter.fetches} times`),
        {
          verification: true,
        },
      );
    }
    return result;
  },
};
