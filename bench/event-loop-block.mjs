// The longest the event loop is held by one pattern operation over many in-memory keys: a 1 ms
// interval timer records the largest gap between its ticks while countByPattern and
// deleteByPattern run. Usage (after `pnpm build`): node bench/event-loop-block.mjs [keys]
import { createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';

const keyCount = Number(process.argv[2] ?? 1_000_000);

async function longestBlock(work) {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  const result = await work();
  const totalMs = performance.now() - started;
  clearInterval(timer);
  longest = Math.max(longest, performance.now() - last);
  return { result, totalMs, longestBlockMs: longest };
}

const cache = createCache({ store: memoryStore({ maxEntries: keyCount + 10 }), prefix: 'bench' });
const filler = 'a'.repeat(30);
const batch = 10_000;
for (let start = 0; start < keyCount; start += batch) {
  await cache.setMany(
    Array.from({ length: Math.min(batch, keyCount - start) }, (_, index) => ({
      key: `redos:${filler}${start + index}`,
      value: 1,
    })),
  );
}
const evil = `${'*a'.repeat(14)}*b`;
const runs = [
  ['countByPattern(*a x14 *b), no match', () => cache.countByPattern(evil)],
  ['countByPattern(redos:*), all match', () => cache.countByPattern('redos:*')],
  ['deleteByPattern(*a x14 *7), a tenth match', () => cache.deleteByPattern(`${'*a'.repeat(14)}*7`)],
];
console.log(`${keyCount} keys on memoryStore, Node ${process.version}`);
for (const [name, work] of runs) {
  const { result, totalMs, longestBlockMs } = await longestBlock(work);
  console.log(
    `${name}: result ${result}, total ${totalMs.toFixed(0)} ms, longest event-loop block ${longestBlockMs.toFixed(1)} ms`,
  );
}
await cache.close();
