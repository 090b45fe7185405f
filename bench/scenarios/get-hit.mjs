import { KEYS } from '../lib/fixtures.mjs';
import { pageCheck, populate } from '../lib/kit.mjs';
import { latency, sequential } from '../lib/loops.mjs';

/** get of a present key, one caller: throughput, then per-op latency (p50/p99). */
export default {
  name: 'get-hit',
  title: 'get hit, 1 caller',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  async run(handle, ctx) {
    await populate(handle, ctx.subject);
    const call = (index) => handle.get(KEYS[index]);
    const check = pageCheck(ctx.subject, 'get');
    await sequential(call, check, ctx.warmupMs);
    const throughput = await sequential(call, check, ctx.durationMs);
    const times = await latency(call, check, ctx.latencySamples, ctx.durationMs);
    return { ...throughput, ...times };
  },
};
