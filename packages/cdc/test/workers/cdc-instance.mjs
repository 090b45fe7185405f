// One service instance in its own process: createCache on tieredStore(memory L1, Redis L2, Redis
// bus), an invalidator (Order ids -> tag `order:<id>`) fed by redisStreamSource. Driven over IPC by
// the multi-process CDC tests (see ../support/cdc-instances.ts).
//
// It imports the BUILT packages by name (`pnpm -s build` first), exactly as a service would;
// `@org/cache-cdc` resolves to packages/cdc/dist through the package's own exports map.
//
// Configuration (JSON in CDC_WORKER_CONFIG): { name, url, prefix, channel, stream, group, consumer,
// claimIdle?, claimInterval? }.
// Protocol: { type: 'ready', pid } once the source is listening and the bus subscribed; every
// request { id, op, ...args } gets one reply { id, ok: true, result } or { id, ok: false, error }.
// Events: { type: 'applied', instance, pid, group, changeId, status, at } each time the invalidator
// resolved an event delivered by the stream; { type: 'held', instance, changeId } when `hold` kept one.
import { createInvalidator, redisStreamSource } from '@org/cache-cdc';
import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { sendToParent, serveChildWorker } from '@org/cache-testing/processes';
import { tieredStore } from '@org/cache-tiered';

const config = JSON.parse(process.env.CDC_WORKER_CONFIG ?? '{}');
const name = config.name ?? `instance-${process.pid}`;

const bus = redisBus({ url: config.url, channel: config.channel });
const store = tieredStore({ l1: memoryStore(), l2: redisStore({ url: config.url }), bus });
const cache = createCache({ store, prefix: config.prefix, strategy: ttl('1h') });
const cdc = createInvalidator(cache, {
  Order: { record: (id) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } },
});
const source = redisStreamSource({
  url: config.url,
  stream: config.stream,
  group: config.group,
  consumer: config.consumer,
  block: '1s',
  claimIdle: config.claimIdle ?? '30s',
  ...(config.claimInterval === undefined ? {} : { claimInterval: config.claimInterval }),
});

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const send = sendToParent;

/** While true, events the stream delivers are kept: never applied, never acknowledged (a stuck consumer). */
let holding = false;

// The source as the invalidator sees it, reporting each application to the test.
await cdc.subscribe({
  name: source.name,
  start: (context) =>
    source.start({
      entities: context.entities,
      failSafe: (reason) => context.failSafe(reason),
      reportInvalid: (error) => context.reportInvalid(error),
      async apply(event) {
        if (holding) {
          send({ type: 'held', instance: name, changeId: event.changeId });
          return new Promise(() => {});
        }
        const outcome = await context.apply(event);
        send({
          type: 'applied',
          instance: name,
          pid: process.pid,
          group: config.group,
          changeId: event.changeId,
          status: outcome.status,
          at: now(),
        });
        return outcome;
      },
    }),
  stop: () => source.stop(),
  health: () => source.health(),
});

/** A read with what it cost: whether L1 answered. */
async function probe(key) {
  const hits = store.stats.l1Hits;
  const value = await cache.get(key);
  return { value, l1Hit: store.stats.l1Hits > hits };
}

/** Polls `keys` every ms (each poll reads them all) until each has missed once; see `misses`. */
let watching;
function watchMisses({ keys, timeoutMs = 3_000 }) {
  const seenAt = {};
  const state = { polls: 0 };
  state.done = (async () => {
    const started = now();
    while (Object.keys(seenAt).length < keys.length && now() - started < timeoutMs) {
      for (const key of keys) {
        if (seenAt[key] === undefined && (await cache.get(key)) === undefined) seenAt[key] = now();
      }
      state.polls++;
      await sleep(1);
    }
    return { seenAt, polls: state.polls };
  })();
  watching = state;
  return { started: now() };
}

async function misses() {
  const state = watching;
  watching = undefined;
  if (state === undefined) throw new Error('misses: no watchMisses running');
  return state.done;
}

const operations = {
  set: async ({ key, value, tags }) => {
    await cache.set(key, value, { tags });
    return { done: true };
  },
  probe: ({ key }) => probe(key),
  watchMisses,
  misses,
  hold: ({ on }) => {
    holding = on;
    return { holding };
  },
  health: async () => ({ source: source.health(), counters: cdc.counters(), bus: bus.connected }),
  close: async () => {
    await cdc.close();
    await cache.close();
    await bus.close();
    return { closed: true };
  },
};

await serveChildWorker(operations, () => bus.ready());
