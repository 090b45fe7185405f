import { KEYS } from '../lib/fixtures.mjs';
import { pageCheck, populate } from '../lib/kit.mjs';
import { concurrent } from '../lib/loops.mjs';

const CALLERS = 64;

/** get of present keys by 64 concurrent callers (what a busy BFF does to its cache). */
export default {
  name: 'get-hit-64',
  title: 'get hit, 64 callers',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  async run(handle, ctx) {
    await populate(handle, ctx.subject);
    const call = (index) => handle.get(KEYS[index]);
    const check = pageCheck(ctx.subject, 'get');
    await concurrent(call, check, ctx.warmupMs, CALLERS);
    return concurrent(call, check, ctx.durationMs, CALLERS);
  },
};
