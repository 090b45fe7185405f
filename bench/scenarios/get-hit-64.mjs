import { KEYS } from '../lib/fixtures.mjs';
import { pageCheck, populate } from '../lib/kit.mjs';
import { concurrent } from '../lib/loops.mjs';

const CALLERS = 64;

/** The 100 keys present, then a timed loop of gets by 64 concurrent callers. */
async function throughput(handle, ctx) {
  await populate(handle, ctx.subject);
  const call = (index) => handle.get(KEYS[index]);
  const check = pageCheck(ctx.subject, 'get');
  return { loop: (ms) => concurrent(call, check, ms, CALLERS) };
}

/** get of present keys by 64 concurrent callers (what a busy BFF does to its cache). */
export default {
  name: 'get-hit-64',
  title: 'get hit, 64 callers',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  throughput,
  async run(handle, ctx) {
    const { loop } = await throughput(handle, ctx);
    await loop(ctx.warmupMs);
    return loop(ctx.durationMs);
  },
};
