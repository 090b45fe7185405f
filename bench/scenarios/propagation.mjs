import { setTimeout as sleep, setImmediate as yieldToIo } from 'node:timers/promises';
import { isPageOf, orderPage, wrongValue } from '../lib/fixtures.mjs';
import { percentile } from '../lib/stats.mjs';

export const KEY = 'orders:summaries:propagation';
export const INDEX = 3;
// Past this a round counts as not propagated; two such rounds in a row end the scenario.
const ROUND_TIMEOUT_MS = 1_000;
// Lets the reader refill its L1 from L2 before the next write, so every round starts from an L1 hit.
const SETTLE_MS = 20;

/** One clock for both processes (same machine): sub-millisecond, comparable across processes. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** A write through the subject's own set (another instance of the same service): when it started. */
function ownSet(handle) {
  return async (version) => {
    const startedAt = wallNow();
    await handle.set(KEY, orderPage(INDEX, version));
    return startedAt;
  };
}

/** The writer: stores version 0, then each version it is told to. */
export async function writer(handle, ipc, write = ownSet(handle)) {
  await handle.set(KEY, orderPage(INDEX, 0));
  ipc.send({ type: 'ready' });
  for (;;) {
    const order = await ipc.next('write');
    if (order.stop) return {};
    // `write` resolves to when its measured part started (a raw writer prepares its text first).
    const startedAt = await write(order.version);
    // The write's own acknowledgement time: how much of a round's latency is the write itself.
    ipc.send({ type: 'written', version: order.version, startedAt, ackMs: wallNow() - startedAt });
  }
}

/**
 * Reads the key in a loop, yielding to I/O between reads (bus messages arrive as I/O), and
 * reports each new version with the time it was first seen.
 */
export async function reader(handle, ipc, subject) {
  ipc.send({ type: 'ready' });
  await ipc.next('start'); // the writer has stored version 0 by now
  let stopped = false;
  ipc.next('stop').then(() => {
    stopped = true;
  });
  let seen = -1;
  let regressions = 0;
  let misses = 0;
  while (!stopped) {
    const value = await handle.get(KEY);
    if (value === undefined) {
      // A cold L1 may answer a miss while it fills from L2 in the background (cacheable's
      // nonBlocking mode does, as documented): not a wrong value, just not seen yet.
      misses++;
    } else if (!isPageOf(value, INDEX, value.version)) {
      throw wrongValue(subject, `get(${KEY})`, value);
    } else if (value.version > seen) {
      seen = value.version;
      ipc.send({ type: 'seen', version: seen, at: wallNow() });
    } else if (value.version < seen) {
      regressions++; // an older value after a newer one: reported, it is the subject's behaviour
    }
    await yieldToIo();
  }
  return { regressions, misses };
}

/**
 * Invalidation propagation between two processes: a writer updates a key both have cached, the
 * reader (serving it from its L1) polls until it sees the new value. Latency = first sighting in
 * the reader - start of the writer's set. The writer's own acknowledgement time (`ackP50Ms`,
 * `ackP99Ms`) is reported beside it: a write that comes after 20 ms of idleness, on a machine
 * whose reader process polls on one of two cores, is itself far slower than a write in a loop,
 * and it is part of every round's latency.
 */
export default {
  name: 'propagation',
  title: 'invalidation propagation, 2 processes',
  tiers: ['tiered'],
  run(handle, ctx, ipc) {
    return ctx.role === 'writer' ? writer(handle, ipc) : reader(handle, ipc, ctx.subject);
  },

  coordinate: coordinatePropagation,
};

/** Runs the rounds: the writer writes, the reader reports when it first sees each version. */
export async function coordinatePropagation(launch, ctx) {
  const write = launch({ role: 'writer' });
  const read = launch({ role: 'reader' });
  try {
    await Promise.all([write.next('ready'), read.next('ready')]);
    read.send({ type: 'start' });
    await read.next('seen', (message) => message.version === 0, ROUND_TIMEOUT_MS * 5);
    await sleep(SETTLE_MS);
    const latencies = [];
    const acks = [];
    const afterAcks = [];
    let timeouts = 0;
    let rounds = 0;
    for (let version = 1; version <= ctx.rounds; version++) {
      rounds++;
      write.send({ type: 'write', version });
      const written = await write.next('written');
      acks.push(written.ackMs);
      const seen = await read
        .next('seen', (message) => message.version === version, ROUND_TIMEOUT_MS)
        .catch(() => undefined);
      if (seen === undefined) {
        timeouts++;
        if (timeouts >= 2 && latencies.length === 0) break; // it does not propagate at all
      } else {
        latencies.push(seen.at - written.startedAt);
        // Negative when the reader saw it before the writer had its own reply.
        afterAcks.push(seen.at - written.startedAt - written.ackMs);
      }
      await sleep(SETTLE_MS);
    }
    write.send({ type: 'write', stop: true });
    read.send({ type: 'stop' });
    const [, readerResult] = await Promise.all([write.result, read.result]);
    const sorted = latencies.sort((a, b) => a - b);
    const sortedAcks = acks.sort((a, b) => a - b);
    const sortedAfterAcks = afterAcks.sort((a, b) => a - b);
    return {
      rounds,
      propagated: latencies.length,
      timeouts,
      timeoutMs: ROUND_TIMEOUT_MS,
      regressions: readerResult.regressions,
      misses: readerResult.misses,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1),
      ackP50Ms: percentile(sortedAcks, 50),
      ackP99Ms: percentile(sortedAcks, 99),
      afterAckP50Ms: percentile(sortedAfterAcks, 50),
      afterAckP99Ms: percentile(sortedAfterAcks, 99),
    };
  } finally {
    write.kill();
    read.kill();
  }
}
