// One instance of a service in its own process: createCache on tieredStore(memory L1, Redis L2,
// Redis bus), driven over IPC by the multi-process tiered tests (see ../support/instances.ts).
//
// It imports the BUILT packages by name (`pnpm -s build` first), exactly as a service would.
//
// Configuration (JSON in TIERED_WORKER_CONFIG): { name, url, rootNodes?, sentinel?, channel, prefix, l1Ttl?, lease?,
// busReconnectDelayMs?, busUser? }. `busUser` ({ username, password }) puts the bus on an ACL user
// of its own, which a test can switch off to keep this instance's bus down while its store works. The bus connections carry the client name `bus-<name>`, so a test can
// find this instance's subscriber in CLIENT LIST and kill only that one; `busReconnectDelayMs`
// makes them retry at that fixed pace (a bus that stays down longer than the store).
// Protocol: { type: 'ready', pid } once the bus subscription is live; then every request
// { id, op, ...args } gets exactly one reply { id, ok: true, result } or { id, ok: false, error }.
import { isDeepStrictEqual } from 'node:util';
import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { describeWorkerError, serveChildWorker } from '@org/cache-testing/processes';
import { tieredStore } from '@org/cache-tiered';

const config = JSON.parse(process.env.TIERED_WORKER_CONFIG ?? '{}');
const name = config.name ?? `worker-${process.pid}`;

// `coherence: 'tracking'`: no bus; the L2 connection is named `l2-<name>`, so its tracked
// connection is `l2-<name>:tracking` in CLIENT LIST (a test kills exactly that one).
const tracking = config.coherence === 'tracking';
// `rootNodes`: the L2 is on a Redis Cluster (tracking then has one tracked connection per master,
// each named `l2-<name>:tracking` in that master's CLIENT LIST). Reconnects at most 100 ms apart
// (2 s by default): after a restart the store is back at a known pace, well before a bus that
// retries every few seconds.
// `sentinel` ({ name, sentinelRootNodes }): the L2 behind Redis Sentinel (tracking follows the master).
const where =
  config.sentinel !== undefined
    ? { sentinel: config.sentinel }
    : config.rootNodes !== undefined
      ? { cluster: { rootNodes: config.rootNodes } }
      : { url: config.url };
const l2 = redisStore({
  ...where,
  maxReconnectDelay: '100ms',
  clientOptions: { name: `l2-${name}` },
});
const busSocket =
  config.busReconnectDelayMs === undefined
    ? {}
    : { socket: { connectTimeout: 1_000, reconnectStrategy: () => config.busReconnectDelayMs } };
const bus = tracking
  ? undefined
  : redisBus({
      url: config.url,
      channel: config.channel,
      ...(config.busUser === undefined
        ? {}
        : { username: config.busUser.username, password: config.busUser.password }),
      clientOptions: { name: `bus-${name}`, ...busSocket },
    });
const store = tieredStore({
  l1: memoryStore(),
  l2,
  ...(tracking ? { coherence: 'tracking' } : { bus }),
  ...(config.l1Ttl === undefined ? {} : { l1Ttl: config.l1Ttl }),
});
const cache = createCache({
  store,
  prefix: config.prefix,
  strategy: ttl('1h'),
  // These tests are about coherence, not deadlines: under a loaded 2-core machine an L2 write
  // slower than the 250 ms default was dropped and the other instance read a miss.
  operationTimeout: '10s',
  ...(config.lease === undefined ? {} : { lease: config.lease }),
});

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const describeError = describeWorkerError;

function stats() {
  const { l1Hits, l2Reads, l1Resets, bus: busStats, tracking: trackingStats } = store.stats;
  return {
    l1Hits,
    l2Reads,
    l1Resets,
    bus: { ...busStats },
    tracking: { ...trackingStats },
    l1InUse: store.l1InUse,
    connected: tracking ? store.l1InUse : bus.connected,
  };
}

/** A read with what it cost: whether L1 answered (l1Hits moved) and whether L2 was read. */
async function probe(key) {
  const before = store.stats;
  const [hits, reads] = [before.l1Hits, before.l2Reads];
  const value = await cache.get(key);
  return { value, l1Hit: store.stats.l1Hits > hits, l2Read: store.stats.l2Reads > reads };
}

/**
 * Reads `key` every `intervalMs` until it equals `expected` (bounded by `timeoutMs`). Resolves
 * with when it was first seen and every distinct value seen before.
 */
async function awaitValue({ key, expected, intervalMs = 1, timeoutMs = 2_000 }) {
  const started = now();
  const seen = [];
  let polls = 0;
  while (now() - started < timeoutMs) {
    const readStart = now();
    const value = await cache.get(key);
    polls++;
    if (isDeepStrictEqual(value, expected)) return { seenAt: now(), readStart, polls, seen };
    if (!seen.some((earlier) => isDeepStrictEqual(earlier, value))) seen.push(value);
    await sleep(intervalMs);
  }
  return { seenAt: undefined, polls, seen };
}

/**
 * Continuous readers, recording every read, until `unwatch`. `afterIo`: each read waits for one
 * turn of the event loop's I/O poll after its timer (setImmediate runs right after the poll
 * phase), so a read's `start` is never before this process has read what its sockets already hold
 * (an invalidation, a closed connection). Without it, after the process was descheduled, the
 * timers that fell due run before the poll phase and their reads start "after" an invalidation
 * this process has not yet read. Two turns, not one: a closed connection is read in the poll phase
 * but node-redis only learns of it from the socket's 'close' event, which Node dispatches in the
 * close-callbacks phase, after setImmediate's check phase; a read started in between served an L1
 * copy whose invalidation was lost with the connection, before the loss was reported (3 stale
 * reads in 1 of 4 runs of the CLIENT KILL test). The second setImmediate runs after that phase.
 */
let watching;
function watch({ keys, readers = 2, intervalMs = 1, afterIo = false }) {
  const records = [];
  const state = { stop: false, records, loops: [] };
  for (let reader = 0; reader < readers; reader++) {
    state.loops.push(
      (async () => {
        for (let index = reader; !state.stop; index++) {
          if (afterIo) {
            await new Promise((resolve) => setImmediate(resolve));
            await new Promise((resolve) => setImmediate(resolve));
          }
          const key = keys[index % keys.length];
          const start = now();
          try {
            const value = await cache.get(key);
            records.push({ key, start, end: now(), value });
          } catch (error) {
            records.push({ key, start, end: now(), error: describeError(error) });
          }
          await sleep(intervalMs);
        }
      })(),
    );
  }
  watching = state;
  return { started: now() };
}

async function unwatch() {
  const state = watching;
  watching = undefined;
  if (state === undefined) return { records: [] };
  state.stop = true;
  await Promise.all(state.loops);
  return { records: state.records };
}

/** `callers` concurrent getOrSet on one key, started together at `startAt` (epoch ms). */
async function burst({ key, callers, delayMs, value, counterKey, startAt }) {
  let fetches = 0;
  const fetcher = async () => {
    fetches++;
    if (counterKey !== undefined) await l2.connection.command(['INCR', counterKey], counterKey);
    await sleep(delayMs);
    return value;
  };
  const wait = startAt - now();
  if (wait > 0) await sleep(wait);
  const started = now();
  const settled = await Promise.allSettled(
    Array.from({ length: callers }, () => cache.getOrSet(key, fetcher)),
  );
  const values = new Map();
  const errors = [];
  for (const result of settled) {
    if (result.status === 'rejected') errors.push(describeError(result.reason));
    else {
      const text = JSON.stringify(result.value);
      values.set(text, (values.get(text) ?? 0) + 1);
    }
  }
  return {
    name,
    fetches,
    errors,
    values: [...values].map(([text, count]) => ({
      value: text === undefined ? undefined : JSON.parse(text),
      count,
    })),
    elapsedMs: now() - started,
  };
}

const operations = {
  probe: ({ key }) => probe(key),
  get: async ({ key }) => ({ value: await cache.get(key) }),
  set: async ({ key, value, options }) => {
    const start = now();
    await cache.set(key, value, options);
    return { start, end: now() };
  },
  delete: async ({ key }) => {
    const start = now();
    const deleted = await cache.delete(key);
    return { start, end: now(), deleted };
  },
  invalidateTags: async ({ tags }) => {
    const start = now();
    await cache.invalidateTags(tags);
    return { start, end: now() };
  },
  deleteByPattern: async ({ pattern }) => {
    const start = now();
    const deleted = await cache.deleteByPattern(pattern);
    return { start, end: now(), deleted };
  },
  /** Retries a set until Redis has it (coming back after a restart): a refused write is dropped, not thrown. */
  setWhenUp: async ({ key, value, timeoutMs = 10_000 }) => {
    const started = now();
    while (now() - started < timeoutMs) {
      const start = now();
      await cache.set(key, value);
      const raw = await l2.get(`${config.prefix}:${key}`).catch(() => undefined);
      if (raw !== undefined && isDeepStrictEqual(JSON.parse(raw).value, value)) return { start, end: now() };
      await sleep(20);
    }
    throw new Error(`setWhenUp: ${key} not written within ${timeoutMs} ms`);
  },
  stats: async () => stats(),
  awaitValue,
  watch,
  unwatch,
  burst,
  close: async () => {
    await cache.close();
    await bus?.close();
    return { closed: true };
  },
};

await serveChildWorker(operations, () => (tracking ? store.ready() : bus.ready()));
