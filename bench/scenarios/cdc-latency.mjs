import { setTimeout as sleep, setImmediate as yieldToIo } from 'node:timers/promises';
import { createInvalidator, redisStreamPublisher, redisStreamSource } from '@org/cache-cdc';
import { ORDER_RULES, orderChange, orderTagOf } from '../lib/cdc-fixtures.mjs';
import { isPageOf, keyOf, orderPage, wrongValue } from '../lib/fixtures.mjs';
import { percentile } from '../lib/stats.mjs';

const INSTANCES = 2;
// Past this a round counts as not invalidated.
const ROUND_TIMEOUT_MS = 2_000;
const SETTLE_MS = 20;

/** One clock for every process (same machine): sub-millisecond, comparable across processes. */
const wallNow = () => performance.timeOrigin + performance.now();

/** The bridge: appends Salesforce-like Order events to the stream when told to. */
async function bridge(ctx, ipc) {
  const publisher = redisStreamPublisher({ url: ctx.redisUrl, stream: ctx.stream });
  ipc.send({ type: 'ready' });
  for (;;) {
    const order = await ipc.next('append');
    if (order.stop) break;
    const appendedAt = wallNow();
    await publisher.append(orderChange(order.index, `${ctx.stream}-${order.round}:1`, String(order.round)));
    ipc.send({ type: 'appended', round: order.round, appendedAt });
  }
  await publisher.close();
  return {};
}

/**
 * A service instance: its cache (the subject's store), an invalidator fed by the stream (all
 * instances in one consumer group: one applies, the store and its bus reach the others). Each
 * round it caches the round's key with its order tag, then polls until the key misses.
 */
async function instance(handle, ctx, ipc) {
  const invalidator = createInvalidator(handle.cache, ORDER_RULES);
  await invalidator.subscribe(
    redisStreamSource({
      url: ctx.redisUrl,
      stream: ctx.stream,
      group: 'bench',
      consumer: ctx.role,
      block: 100,
    }),
  );
  ipc.send({ type: 'ready' });
  for (;;) {
    const order = await ipc.next('cache');
    if (order.stop) break;
    const key = keyOf(order.index);
    await handle.cache.set(key, orderPage(order.index), { tags: [orderTagOf(order.index)] });
    const cached = await handle.get(key);
    if (!isPageOf(cached, order.index)) throw wrongValue(ctx.subject, `get(${key}) before the event`, cached);
    ipc.send({ type: 'cached', round: order.round });
    const deadline = wallNow() + ROUND_TIMEOUT_MS;
    let missedAt;
    while (wallNow() < deadline) {
      if ((await handle.get(key)) === undefined) {
        missedAt = wallNow();
        break;
      }
      await yieldToIo();
    }
    ipc.send({ type: 'missed', round: order.round, missedAt });
  }
  const { processed, duplicates, failed } = invalidator.counters();
  await invalidator.close();
  return { processed, duplicates, failed };
}

/**
 * Event-to-miss latency across processes: a bridge process appends a CDC event to a Redis
 * stream; two service instances (separate processes) consume it through one consumer group and
 * must both miss the dependent entry. Latency = the miss seen by an instance - the append's start.
 */
export default {
  name: 'cdc-latency',
  title: 'CDC event-to-miss, 2 instances',
  tiers: ['redis', 'tiered'],
  subjects: ['redis-ours', 'tiered-ours'],
  run(handle, ctx, ipc) {
    return ctx.role === 'bridge' ? bridge(ctx, ipc) : instance(handle, ctx, ipc);
  },

  async coordinate(launch, ctx) {
    const stream = `${ctx.prefix}-cdc`;
    const appender = launch({ role: 'bridge', stream });
    const instances = Array.from({ length: INSTANCES }, (_, n) => launch({ role: `instance-${n}`, stream }));
    const all = [appender, ...instances];
    try {
      await Promise.all(all.map((worker) => worker.next('ready')));
      const latencies = [];
      let timeouts = 0;
      // Round 0 warms up: the bridge's first append opens its connection (tens of ms), and each
      // instance's first apply compiles its path. It is verified like the others, not measured.
      for (let round = 0; round <= ctx.rounds; round++) {
        const index = round % 100;
        for (const worker of instances) worker.send({ type: 'cache', round, index });
        await Promise.all(instances.map((worker) => worker.next('cached', (m) => m.round === round)));
        appender.send({ type: 'append', round, index });
        const { appendedAt } = await appender.next('appended', (m) => m.round === round);
        const misses = await Promise.all(
          instances.map((worker) => worker.next('missed', (m) => m.round === round)),
        );
        for (const { missedAt } of misses) {
          if (missedAt === undefined) timeouts++;
          else if (round > 0) latencies.push(missedAt - appendedAt);
        }
        await sleep(SETTLE_MS);
      }
      appender.send({ type: 'append', stop: true });
      for (const worker of instances) worker.send({ type: 'cache', stop: true });
      const results = await Promise.all(instances.map((worker) => worker.result));
      await appender.result;
      const processed = results.reduce((sum, result) => sum + result.processed, 0);
      // One consumer group: every event applied exactly once across the instances.
      if (processed !== ctx.rounds + 1 || timeouts > 0) {
        const error = new Error(
          `${ctx.subject}: ${ctx.rounds + 1} events, applied ${processed} times in all, ${timeouts} instance(s) never missed`,
        );
        error.verification = true;
        throw error;
      }
      const sorted = latencies.sort((a, b) => a - b);
      return {
        rounds: ctx.rounds * INSTANCES, // one sample per instance per event
        propagated: latencies.length,
        timeouts,
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted.at(-1),
      };
    } finally {
      for (const worker of all) worker.kill();
    }
  },
};
