import { setImmediate as yieldToIo } from 'node:timers/promises';
import { isPageOf, orderPage, wrongValue } from '../lib/fixtures.mjs';

/** Full collections until the heap stops shrinking, so the delta is what the entries hold. */
async function settledHeap() {
  let previous = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 6; round++) {
    globalThis.gc();
    await yieldToIo(); // lets finalizers and weak callbacks run between collections
    const used = process.memoryUsage().heapUsed;
    if (used >= previous) return used;
    previous = used;
  }
  return previous;
}

/**
 * Heap held by N entries (100k in a full run) in the memory tier: heapUsed after GC with them
 * minus before. Each value is a fresh ~1 KB page the harness does not keep, so a store that keeps
 * objects, copies or serialized text pays for what it really holds.
 */
export default {
  name: 'memory-100k',
  title: 'heap held by 100k entries',
  tiers: ['memory'],
  ratio: 'bytesPerEntry',
  lowerIsBetter: true,
  async run(handle, ctx) {
    if (typeof globalThis.gc !== 'function') throw new Error('the worker needs --expose-gc');
    const entries = ctx.entries;
    const keyOf = (index) => `mem:${index}`;
    const before = await settledHeap();
    for (let index = 0; index < entries; index++) {
      const done = handle.set(keyOf(index), orderPage(index));
      if (done instanceof Promise) await done;
    }
    const after = await settledHeap();
    // Every entry must still be there (no eviction below N): check the first, the last and 1% of the rest.
    const step = Math.max(1, Math.floor(entries / 100));
    const sample = [];
    for (let index = 0; index < entries; index += step) sample.push(index);
    sample.push(entries - 1);
    for (const index of sample) {
      const value = await handle.get(keyOf(index));
      if (!isPageOf(value, index))
        throw wrongValue(ctx.subject, `get(${keyOf(index)}) after ${entries} sets`, value);
    }
    return { entries, heapBytes: after - before, bytesPerEntry: (after - before) / entries };
  },
};
