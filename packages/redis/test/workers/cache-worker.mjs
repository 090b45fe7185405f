// A cache in a child process, driven over IPC by the multi-process and cluster tests.
//
// It imports the BUILT packages by name (`pnpm -s build` first): '@org/cache-redis' resolves to
// this package's own dist/ (self-reference through its exports map) and '@org/cache-core' to the
// workspace link, exactly as a service would import them.
//
// Configuration (JSON in CACHE_WORKER_CONFIG):
//   { name, prefix, redis: { url } | { cluster: { rootNodes } }, lease?, skewMs?, grace?,
//     operationTimeout?, strategy?: { ttl }, trackTagTokens? }
// Protocol: the worker sends { type: 'ready', pid } once connected; then every request
// { id, op, ...args } gets exactly one reply { id, ok: true, result } or { id, ok: false, error }.
// Fetchers announce themselves with { type: 'event', event: 'fetch-start', key, name, at }.
// The cache's clock is Date.now() + skewMs; `advanceClock` moves it.
import { createCache, ttl } from '@org/cache-core';
import { redisStore } from '@org/cache-redis';

const config = JSON.parse(process.env.CACHE_WORKER_CONFIG ?? '{}');
const name = config.name ?? `worker-${process.pid}`;
// Moved by `advanceClock` too: lets a test reach an entry's refresh point without sleeping.
let skewMs = config.skewMs ?? 0;

const store = redisStore({
  ...(config.redis.cluster === undefined ? { url: config.redis.url } : { cluster: config.redis.cluster }),
  ...(config.trackTagTokens === true ? { trackTagTokens: true } : {}),
});
const cache = createCache({
  store,
  prefix: config.prefix,
  strategy: ttl(config.strategy?.ttl ?? '1d'),
  clock: { now: () => Date.now() + skewMs },
  ...(config.lease === undefined ? {} : { lease: config.lease }),
  ...(config.grace === undefined ? {} : { grace: config.grace }),
  ...(config.operationTimeout === undefined ? {} : { operationTimeout: config.operationTimeout }),
});

let fetchesHere = 0;

const send = (message) => {
  if (process.connected) process.send(message);
};

/** One raw command on the store's own connection (routed by `key` on a cluster). */
const raw = (args, key) => store.connection.command(args, key);

/**
 * A fetcher that counts itself (locally, and with INCR on a shared counter key, so a process that
 * is killed mid-fetch is still counted), announces itself, waits `delayMs`, then returns `value`
 * stamped with who fetched it.
 */
function makeFetcher(spec) {
  return async ({ signal }) => {
    fetchesHere++;
    if (spec.counterKey !== undefined) await raw(['INCR', spec.counterKey], spec.counterKey);
    send({ type: 'event', event: 'fetch-start', key: spec.key, name, at: Date.now() });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, spec.delayMs ?? 0);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
    return { ...spec.value, fetchedBy: name };
  };
}

function describeError(error) {
  return {
    name: error?.name,
    code: error?.code,
    message: error instanceof Error ? error.message : String(error),
  };
}

const operations = {
  /** Opens the connection and runs the code paths once, so a measured burst starts warm. */
  async warmup({ key }) {
    await cache.getOrSet(key, () => ({ warm: true }), { ttl: '1m' });
    await cache.get(key);
    await cache.delete(key);
    return { pid: process.pid };
  },
  /**
   * `callers` concurrent getOrSet calls on one key, all issued in the same tick. Reports how
   * many callers got each distinct value, the errors, and the wall time in this process.
   */
  async burst({ key, callers, fetch, options }) {
    const fetcher = makeFetcher({ ...fetch, key });
    const before = fetchesHere;
    const started = performance.now();
    const startedAt = Date.now();
    const settled = await Promise.allSettled(
      Array.from({ length: callers }, () => cache.getOrSet(key, fetcher, options)),
    );
    const elapsedMs = performance.now() - started;
    const values = new Map();
    const errors = [];
    for (const outcome of settled) {
      if (outcome.status === 'rejected') {
        errors.push(describeError(outcome.reason));
        continue;
      }
      const text = JSON.stringify(outcome.value);
      values.set(text, (values.get(text) ?? 0) + 1);
    }
    return {
      name,
      callers,
      values: [...values].map(([text, count]) => ({
        value: text === undefined ? undefined : JSON.parse(text),
        count,
      })),
      errors,
      fetches: fetchesHere - before,
      elapsedMs,
      startedAt,
      finishedAt: Date.now(),
    };
  },
  /**
   * One getManyOrSet over `keys`: the batch fetcher INCRBYs `counterKey` by the number of keys it
   * is asked (so the parent can sum keys fetched across processes), waits `delayMs`, and answers
   * every key stamped with who fetched it.
   */
  async batch({ keys, fetch }) {
    const asked = [];
    const started = performance.now();
    const values = await cache.getManyOrSet(keys, async (missing, { signal }) => {
      asked.push(missing);
      if (fetch.counterKey !== undefined)
        await raw(['INCRBY', fetch.counterKey, String(missing.length)], fetch.counterKey);
      send({ type: 'event', event: 'fetch-start', key: missing.join(','), name, at: Date.now() });
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, fetch.delayMs ?? 0);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      });
      return missing.map((key) => ({ key, fetchedBy: name }));
    });
    return { values, asked, elapsedMs: performance.now() - started, stats: cache.stats().totals };
  },
  async get({ key }) {
    return { value: await cache.get(key) };
  },
  /** Moves this cache's clock forward by `by` ms (the same on every worker: one cluster clock). */
  async advanceClock({ by }) {
    skewMs += by;
    return { skewMs };
  },
  async set({ key, value, options }) {
    await cache.set(key, value, options);
    return {};
  },
  async setMany({ entries }) {
    await cache.setMany(entries);
    return {};
  },
  async getMany({ keys }) {
    return { values: await cache.getMany(keys) };
  },
  async delete({ key }) {
    return { deleted: await cache.delete(key) };
  },
  async invalidateTags({ tags }) {
    const started = performance.now();
    await cache.invalidateTags(tags);
    return { elapsedMs: performance.now() - started };
  },
  async deleteByPattern({ pattern }) {
    return { deleted: await cache.deleteByPattern(pattern) };
  },
  async countByPattern({ pattern }) {
    return { count: await cache.countByPattern(pattern) };
  },
  async stats() {
    return { stats: cache.stats(), fetches: fetchesHere, tagTracking: store.tagTracking?.stats };
  },
  async close() {
    await cache.close();
    return {};
  },
};

process.on('message', async (message) => {
  if (message === null || typeof message !== 'object' || typeof message.id !== 'number') return;
  const operation = operations[message.op];
  try {
    if (operation === undefined) throw new Error(`unknown op ${String(message.op)}`);
    send({ id: message.id, ok: true, result: await operation(message) });
  } catch (error) {
    send({ id: message.id, ok: false, error: describeError(error) });
  }
});

// The parent going away (crash, timeout) must not leave this process behind.
process.on('disconnect', () => {
  void cache.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1_000).unref();
});
process.on('unhandledRejection', (error) => {
  send({ type: 'fatal', error: describeError(error) });
});

try {
  await raw(['PING'], config.prefix);
  await store.tagTracking?.ready();
  send({ type: 'ready', pid: process.pid, name });
} catch (error) {
  send({ type: 'fatal', error: describeError(error) });
  process.exit(1);
}
