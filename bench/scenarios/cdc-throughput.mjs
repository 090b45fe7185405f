import { createInvalidator } from '@org/cache-cdc';
import { ORDER_RULES, orderChange, orderTagOf } from '../lib/cdc-fixtures.mjs';
import { isPageOf, KEY_COUNT, KEYS, PAGES, wrongValue } from '../lib/fixtures.mjs';
import { sequential } from '../lib/loops.mjs';

/**
 * Invalidation throughput: CDC events applied one after another by one invalidator (what one
 * consumer does), each invalidating the tag of one order. Verified: every entry was a hit before
 * and is a miss after, and every event counted as processed.
 */
export default {
  name: 'cdc-throughput',
  title: 'CDC events applied, 1 consumer',
  tiers: ['memory', 'redis', 'tiered'],
  subjects: ['memory-ours', 'redis-ours', 'tiered-ours'],
  async run(handle, ctx) {
    const invalidator = createInvalidator(handle.cache, ORDER_RULES);
    for (let index = 0; index < KEY_COUNT; index++) {
      await handle.cache.set(KEYS[index], PAGES[index], { tags: [orderTagOf(index)] });
      const value = await handle.get(KEYS[index]);
      if (!isPageOf(value, index))
        throw wrongValue(ctx.subject, `get(${KEYS[index]}) before any event`, value);
    }
    let sequence = 0;
    const invalidated = new Set();
    const apply = (index) => {
      invalidated.add(index);
      sequence++;
      return invalidator.apply(orderChange(index, `bench-${sequence}:1`, String(sequence)));
    };
    const applied = (outcome, index) => {
      if (outcome.status !== 'applied' || outcome.tags !== 1)
        throw wrongValue(ctx.subject, `apply(Order ${index})`, outcome);
    };
    await sequential(apply, applied, ctx.warmupMs);
    const result = await sequential(apply, applied, ctx.durationMs);
    // A short time box on a slow store may not get round all 100 orders: those must still hit.
    for (let index = 0; index < KEY_COUNT; index++) {
      const value = await handle.get(KEYS[index]);
      const expected = invalidated.has(index) ? value === undefined : isPageOf(value, index);
      if (!expected) throw wrongValue(ctx.subject, `get(${KEYS[index]}) after the events`, value);
    }
    const { processed, failed } = invalidator.counters();
    if (processed !== sequence || failed !== 0)
      throw wrongValue(ctx.subject, 'invalidator counters', { processed, failed, sent: sequence });
    await invalidator.close();
    return result;
  },
};
