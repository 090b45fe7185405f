import { KEY_COUNT } from './fixtures.mjs';
import { percentile } from './stats.mjs';

/**
 * Time-boxed measuring loops. `call(index)` runs one operation on key `index` and returns its
 * value or a promise of it; `check(value, index)` throws when the value is wrong. Checking is
 * part of every measured op, for every subject alike.
 */

const now = () => performance.now();
// Reading the clock costs about as much as a Map lookup: look at it once per batch.
const BATCH = 32;

/**
 * One caller, one operation after another. Every result is awaited, synchronous or not: the
 * harness calls every subject the same way, as application code calls a cache
 * (`const v = await cache.get(k)`). For a raw Map that await is most of the cost of a hit.
 */
export async function sequential(call, check, durationMs) {
  let index = 0;
  let ops = 0;
  const start = now();
  const end = start + durationMs;
  let time = start;
  do {
    for (let n = 0; n < BATCH; n++) {
      check(await call(index), index);
      if (++index === KEY_COUNT) index = 0;
    }
    ops += BATCH;
    time = now();
  } while (time < end);
  return { ops, ms: time - start, opsPerSec: (ops * 1000) / (time - start) };
}

/** `callers` concurrent callers sharing the time box, each awaiting every result as above. */
export async function concurrent(call, check, durationMs, callers) {
  const start = now();
  const end = start + durationMs;
  let stop = false;
  let ops = 0;
  const caller = async (first) => {
    let index = first % KEY_COUNT;
    while (!stop) {
      for (let n = 0; n < 8; n++) {
        const value = await call(index);
        check(value, index);
        if (++index === KEY_COUNT) index = 0;
      }
      ops += 8;
      if (now() >= end) stop = true;
    }
  };
  await Promise.all(Array.from({ length: callers }, (_, first) => caller(first)));
  const ms = now() - start;
  return { ops, ms, opsPerSec: (ops * 1000) / ms };
}

/** Per-operation latency of one caller: up to `samples` ops or `maxMs`, whichever comes first. */
export async function latency(call, check, samples, maxMs) {
  const times = new Float64Array(samples);
  const end = now() + maxMs;
  let count = 0;
  let index = 0;
  while (count < samples && (count & 63 || now() < end)) {
    const before = now();
    const value = await call(index);
    times[count++] = now() - before;
    check(value, index);
    if (++index === KEY_COUNT) index = 0;
  }
  const sorted = times.subarray(0, count).sort();
  // microseconds
  return { samples: count, p50Us: percentile(sorted, 50) * 1000, p99Us: percentile(sorted, 99) * 1000 };
}
