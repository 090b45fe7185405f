import { isPageOf, KEY_COUNT, KEYS, PAGES, wrongValue } from '../lib/fixtures.mjs';
import { sequential } from '../lib/loops.mjs';

/** set of the 100 keys over and over, one caller; every key the loop wrote is read back and checked. */
export default {
  name: 'set',
  title: 'set, 1 caller',
  tiers: ['memory', 'redis', 'tiered'],
  ratio: 'opsPerSec',
  async run(handle, ctx) {
    const call = (index) => handle.set(KEYS[index], PAGES[index]);
    const none = () => {};
    await sequential(call, none, ctx.warmupMs);
    const result = await sequential(call, none, ctx.durationMs);
    // A short time box against a slow store may not get round all 100 keys (the namespace starts empty).
    for (let index = 0; index < Math.min(result.ops, KEY_COUNT); index++) {
      const value = await handle.get(KEYS[index]);
      if (!isPageOf(value, index))
        throw wrongValue(ctx.subject, `get(${KEYS[index]}) after the set loop`, value);
    }
    return result;
  },
};
