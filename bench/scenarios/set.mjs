import { isPageOf, KEY_COUNT, KEYS, PAGES, wrongValue } from '../lib/fixtures.mjs';
import { sequential } from '../lib/loops.mjs';

/** A timed loop of sets of the 100 keys; `verify` reads back every key the loops wrote. */
async function throughput(handle, ctx) {
  const call = (index) => handle.set(KEYS[index], PAGES[index]);
  const none = () => {};
  let written = 0;
  return {
    async loop(ms) {
      const result = await sequential(call, none, ms);
      written = Math.max(written, result.ops);
      return result;
    },
    async verify() {
      // A short time box against a slow store may not get round all 100 keys (the namespace starts empty).
      for (let index = 0; index < Math.min(written, KEY_COUNT); index++) {
        const value = await handle.get(KEYS[index]);
        if (!isPageOf(value, index))
          throw wrongValue(ctx.subject, `get(${KEYS[index]}) after the set loop`, value);
      }
    },
  };
}

/** set of the 100 keys over and over, one caller; every key the loop wrote is read back and checked. */
export default {
  name: 'set',
  title: 'set, 1 caller',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  throughput,
  async run(handle, ctx) {
    const { loop, verify } = await throughput(handle, ctx);
    await loop(ctx.warmupMs);
    const result = await loop(ctx.durationMs);
    await verify();
    return result;
  },
};
