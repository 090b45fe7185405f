/**
 * Ours against the raw client on the Redis paths the write-path targets name, in ONE process, in
 * interleaved rounds (subjects in a new random order each round), reporting each subject's median
 * per-operation time and the median of its per-round ratios to the raw client. `pnpm bench` times
 * each subject in its own process between two raw baselines seconds apart; on a 2-core virtual
 * machine those baselines drift by 10-30% within a repeat, more than the few microseconds in
 * question. Here ours and raw share every round's conditions, so the ratio holds still.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 node bench/interleaved.mjs [rounds]
 *
 * Paths: get and set with one caller, get with 64 concurrent callers, a get of an entry with 3
 * tags (trackTagTokens), a tiered set with coherence: 'tracking'. Keys are
 * `bench-il-<pid>...` and are deleted at the end.
 */
import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';
import { createClient } from '@redis/client';
import { isPageOf, KEY_COUNT, KEYS, PAGES, wrongValue } from './lib/fixtures.mjs';
import { median } from './lib/stats.mjs';

const url = process.env.REDIS_URL;
if (!url) {
  console.error('interleaved: set REDIS_URL (the Redis the bench uses)');
  process.exit(2);
}
const rounds = Number(process.argv[2] ?? 24);
if (!Number.isInteger(rounds) || rounds < 3) throw new Error('rounds must be an integer >= 3');
const WARMUP_ROUNDS = 2;
const SINGLE_OPS = 1_000;
const CONCURRENT_OPS = 10_000;
const CALLERS = 64;
const TAGS = ['catalog', 'vendor:7', 'region:eu'];
const TTL_MS = 60_000;

const prefix = `bench-il-${process.pid}`;
const client = createClient({ url });
client.on('error', () => {}); // a dropped connection fails the calls, which fails the run
await client.connect();
const rawKey = (index) => `${prefix}:raw:${KEYS[index % KEY_COUNT]}`;
const cacheOf = (store, name) =>
  createCache({ store, prefix: `${prefix}-${name}`, strategy: ttl(TTL_MS), operationTimeout: '10s' });
const redis = cacheOf(redisStore({ url }), 'redis');
const tagStore = redisStore({ url, trackTagTokens: true });
const tagged = cacheOf(tagStore, 'tagged');
const tiered = cacheOf(
  tieredStore({ l1: memoryStore({ maxEntries: 1_000 }), l2: redisStore({ url }), coherence: 'tracking' }),
  'tiered',
);
await tagStore.tagTracking?.ready();

for (let index = 0; index < KEY_COUNT; index++) {
  await client.set(rawKey(index), JSON.stringify(PAGES[index]), {
    expiration: { type: 'PX', value: TTL_MS },
  });
  await redis.set(KEYS[index], PAGES[index]);
  await tagged.set(KEYS[index], PAGES[index], { tags: TAGS });
}

const rawGet = async (index) => {
  const text = await client.get(rawKey(index));
  return text === null ? undefined : JSON.parse(text);
};
const rawSet = (index) =>
  client.set(rawKey(index), JSON.stringify(PAGES[index % KEY_COUNT]), {
    expiration: { type: 'PX', value: TTL_MS },
  });
const getOf = (cache) => (index) => cache.get(KEYS[index % KEY_COUNT]);
const setOf = (cache) => (index) => cache.set(KEYS[index % KEY_COUNT], PAGES[index % KEY_COUNT]);

/** Each path: the raw client's call, and ours (one or more subjects) doing the same. */
const PATHS = [
  { name: 'get, 1 caller', callers: 1, read: true, raw: rawGet, ours: { redis: getOf(redis) } },
  { name: 'get, 64 callers', callers: CALLERS, read: true, raw: rawGet, ours: { redis: getOf(redis) } },
  {
    name: 'get, 3 tags, 1 caller',
    callers: 1,
    read: true,
    raw: rawGet,
    ours: { trackTagTokens: getOf(tagged) },
  },
  {
    name: 'set, 1 caller',
    callers: 1,
    read: false,
    raw: rawSet,
    ours: { redis: setOf(redis), "tiered, coherence: 'tracking'": setOf(tiered) },
  },
];

async function time(call, callers, read, subject) {
  const ops = callers === 1 ? SINGLE_OPS : CONCURRENT_OPS;
  let next = 0;
  const worker = async () => {
    while (next < ops) {
      const index = next++;
      const value = await call(index);
      if (read && !isPageOf(value, index % KEY_COUNT)) throw wrongValue(subject, 'get', value);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: callers }, worker));
  return ((performance.now() - started) * 1_000) / ops;
}

function shuffled(items) {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

console.log(`interleaved: ${rounds} rounds (${WARMUP_ROUNDS} more to warm up), Redis ${url}`);
for (const path of PATHS) {
  const subjects = [['raw', path.raw], ...Object.entries(path.ours)];
  const times = new Map(subjects.map(([name]) => [name, []]));
  for (let round = 0; round < rounds + WARMUP_ROUNDS; round++) {
    for (const [name, call] of shuffled(subjects)) {
      const micros = await time(call, path.callers, path.read, name);
      if (round >= WARMUP_ROUNDS) times.get(name).push(micros);
    }
  }
  const raw = times.get('raw');
  console.log(`\n${path.name}: raw node-redis ${median(raw).toFixed(2)} µs/op`);
  for (const [name] of subjects.slice(1)) {
    const ours = times.get(name);
    const ratios = ours.map((micros, round) => raw[round] / micros);
    console.log(
      `  ours, ${name}: ${median(ours).toFixed(2)} µs/op, ${median(ratios).toFixed(2)}x of raw (median of per-round ratios; range ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`,
    );
  }
}

// Everything this run wrote, tag tokens included (the caches' own pattern operations skip those).
for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1_000 })) {
  if (keys.length > 0) await client.del(keys);
}
await Promise.all([redis.close(), tagged.close(), tiered.close(), client.close()]);
