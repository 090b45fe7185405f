import { isPageOf, KEY_COUNT, KEYS, PAGES, wrongValue } from '../lib/fixtures.mjs';
import { pageCheck } from '../lib/kit.mjs';
import { latency, sequential } from '../lib/loops.mjs';

const TAGS = ['catalog', 'vendor:7', 'region:eu'];

/** The 100 keys written (with the 3 tags where the subject has tags) and read back, then a timed loop of gets. */
async function throughput(handle, ctx) {
  for (let index = 0; index < KEY_COUNT; index++) {
    if (handle.cache === undefined) await handle.set(KEYS[index], PAGES[index]);
    else await handle.cache.set(KEYS[index], PAGES[index], { tags: TAGS });
  }
  for (let index = 0; index < KEY_COUNT; index++) {
    const value = await handle.get(KEYS[index]);
    if (!isPageOf(value, index)) throw wrongValue(ctx.subject, `get(${KEYS[index]}) after set`, value);
  }
  const call = (index) => handle.get(KEYS[index]);
  const check = pageCheck(ctx.subject, 'get');
  return { call, check, loop: (ms) => sequential(call, check, ms) };
}

/**
 * get of a present entry that depends on 3 tags, one caller. Ours must check the tags' tokens on
 * every read (an invalidated tag is a miss); the raw client, the baseline, has no tags: a plain
 * GET is the ceiling ("one round trip").
 */
export default {
  name: 'get-hit-tagged',
  title: 'get hit, entry with 3 tags, 1 caller',
  tiers: ['redis'],
  subjects: ['redis-ours', 'redis-ours-tags'],
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
