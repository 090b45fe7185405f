import { KEYS } from '../lib/fixtures.mjs';
import { countingFetchers, pageCheck, populate } from '../lib/kit.mjs';
import { sequential } from '../lib/loops.mjs';

/** The 100 keys present, then a timed loop of getOrSet calls; `verify` fails if a fetcher ran. */
async function throughput(handle, ctx) {
  await populate(handle, ctx.subject);
  const { counter, fetchers } = countingFetchers();
  const call = (index) => handle.getOrSet(KEYS[index], fetchers[index]);
  const check = pageCheck(ctx.subject, 'getOrSet');
  return {
    loop: (ms) => sequential(call, check, ms),
    verify() {
      if (counter.fetches === 0) return;
      throw Object.assign(
        new Error(`${ctx.subject}: getOrSet of present keys ran the fetcher ${counter.fetches} times`),
        { verification: true },
      );
    },
  };
}

/** getOrSet of a present key, one caller: the cache-aside hot path. The fetcher must never run. */
export default {
  name: 'get-or-set-hit',
  title: 'getOrSet hit, 1 caller',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  throughput,
  async run(handle, ctx) {
    const { loop, verify } = await throughput(handle, ctx);
    await loop(ctx.warmupMs);
    const result = await loop(ctx.durationMs);
    verify();
    return result;
  },
};
