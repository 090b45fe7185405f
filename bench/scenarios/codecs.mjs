import { randomBytes } from 'node:crypto';
import { compressedCodec, createCache, encryptedCodec, jsonCodec, ttl } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';
import { createClient } from '@redis/client';
import { isPageOf, orderPage, wrongValue } from '../lib/fixtures.mjs';
import { percentile } from '../lib/stats.mjs';

/**
 * What a codec costs on Redis: bytes one entry takes in Redis (STRLEN of the value) and the
 * latency of a get (and a set) for a ~1 KB and a ~100 KB value, for plain JSON, gzip, brotli,
 * AES-256-GCM, and brotli then AES-256-GCM. Ours only; one cache per codec on the run's Redis.
 */

export const CODECS = ['json', 'gzip', 'brotli', 'encrypted', 'brotli+encrypted'];
export const SIZES = ['1KB', '100KB'];

function codecOf(name) {
  const keys = { bench: randomBytes(32) };
  switch (name) {
    case 'json':
      return jsonCodec;
    case 'gzip':
      return compressedCodec({ algorithm: 'gzip' });
    case 'brotli':
      return compressedCodec({ algorithm: 'brotli' });
    case 'encrypted':
      return encryptedCodec({ keys, currentKeyId: 'bench' });
    case 'brotli+encrypted':
      return encryptedCodec({ keys, currentKeyId: 'bench', inner: compressedCodec({ algorithm: 'brotli' }) });
    default:
      throw new Error(`unknown codec ${name}`);
  }
}

// ~1 KB: one page of 5 orders. ~100 KB: 100 such pages (distinct ids, so not one page repeated).
const KEYS_PER_SIZE = { '1KB': 100, '100KB': 10 };
function valueFor(size, index) {
  if (size === '1KB') return orderPage(index);
  return { pages: Array.from({ length: 100 }, (_, page) => orderPage(index * 100 + page)) };
}
function isValueFor(size, value, index) {
  if (size === '1KB') return isPageOf(value, index);
  return value?.pages?.length === 100 && isPageOf(value.pages[99], index * 100 + 99);
}

/** Per-op latency of one caller over the keys in turn, up to `samples` ops or `maxMs`, in µs. */
async function timeOps(call, keyCount, samples, maxMs) {
  const times = new Float64Array(samples);
  const end = performance.now() + maxMs;
  let count = 0;
  while (count < samples && (count < 8 || performance.now() < end)) {
    const before = performance.now();
    await call(count % keyCount);
    times[count++] = performance.now() - before;
  }
  const sorted = times.subarray(0, count).sort();
  return { samples: count, p50Us: percentile(sorted, 50) * 1000, p99Us: percentile(sorted, 99) * 1000 };
}

export default {
  name: 'codecs',
  title: 'codecs: bytes in Redis, get and set latency',
  tiers: ['redis'],
  subjects: ['redis-ours'],
  async run(_handle, ctx) {
    const raw = createClient({ url: ctx.redisUrl });
    raw.on('error', () => {});
    await raw.connect();
    const result = { cells: 0 };
    try {
      for (const name of CODECS) {
        // One cache per codec, all built alike (JSON too). A generous deadline: this measures what
        // a codec costs, and on a loaded machine a 100 KB read past the default 250 ms would be a
        // miss, failing the value check rather than measuring anything.
        const cache = createCache({
          store: redisStore({ url: ctx.redisUrl }),
          prefix: `${ctx.prefix}-${name.replace('+', '-')}`,
          strategy: ttl(ctx.ttlMs),
          codec: codecOf(name),
          operationTimeout: '5s',
        });
        try {
          for (const size of SIZES) {
            const count = KEYS_PER_SIZE[size];
            const key = (index) => `codec:${size}:${index}`;
            const values = Array.from({ length: count }, (_, index) => valueFor(size, index));
            for (let index = 0; index < count; index++) await cache.set(key(index), values[index]);
            let bytes = 0;
            for (let index = 0; index < count; index++)
              bytes += await raw.strLen(`${cache.prefix}:${key(index)}`);
            const jsonBytes = Buffer.byteLength(JSON.stringify(values[0]));
            const get = async (index) => {
              const value = await cache.get(key(index));
              if (!isValueFor(size, value, index))
                throw wrongValue(ctx.subject, `${name} get(${key(index)})`, value);
            };
            for (let index = 0; index < count; index++) await get(index); // warm-up, and every key checked
            const reads = await timeOps(get, count, ctx.latencySamples, ctx.durationMs);
            const writes = await timeOps(
              (index) => cache.set(key(index), values[index]),
              count,
              Math.max(8, ctx.latencySamples >> 2),
              ctx.durationMs / 2,
            );
            const cell = `${name}.${size}`;
            result[`${cell}.valueBytes`] = jsonBytes;
            result[`${cell}.bytes`] = bytes / count;
            result[`${cell}.getP50Us`] = reads.p50Us;
            result[`${cell}.getP99Us`] = reads.p99Us;
            result[`${cell}.setP50Us`] = writes.p50Us;
            result[`${cell}.samples`] = reads.samples;
            result.cells++;
          }
          if (cache.stats().totals.corruptEntries !== 0)
            throw new Error(`${name}: corrupt entries read back`);
        } finally {
          await cache.close();
        }
      }
    } finally {
      await raw.close();
    }
    return result;
  },
};
