import { KEYS } from '../lib/fixtures.mjs';
import { pageCheck, populate } from '../lib/kit.mjs';
import { latency, sequential } from '../lib/loops.mjs';

/** The 100 keys present, then a timed loop of gets by one caller (also what the paired rounds time). */
async function throughput(handle, ctx) {
  await populate(handle, ctx.subject);
  const call = (index) => handle.get(KEYS[index]);
  const check = pageCheck(ctx.subject, 'get');
  return { call, check, loop: (ms) => sequential(call, check, ms) };
}

/** get of a present key, one caller: throughput, then per-op latency (p50/p99). */
export default {
  name: 'get-hit',
  title: 'get hit, 1 caller',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  throughput,
  async run(handle, ctx) {
    const { call, check, loop } = await throughput(handle, ctx);
    await loop(ctx.warmupMs);
    const result = await loop(ctx.durationMs);
    const times = await latency(call, check, ctx.latencySamples, ctx.durationMs);
    return { ...result, ...times };
  },
};
