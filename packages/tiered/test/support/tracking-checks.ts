import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { type Instance, now, type ReadRecord, sleep, type Timed } from './instances.js';

// What the multi-process tracking tests (standalone and cluster) measure and assert, shared.

const run = promisify(execFile);

export const GUARANTEE_MS = 10;
/**
 * Propagation latencies are reported, and asserted only against this loose bound: measured over
 * IPC with a 1 ms polling timer on a shared 2-core machine (load averages of 10 seen), a single
 * trial can take longer than the guarantee for reasons that have nothing to do with Redis. The
 * guarantee itself is asserted as a count of stale reads, timed inside the reading process.
 */
export const LATENCY_LIMIT_MS = 100;

/** A reads `key` until a read is an L1 hit (the first read fills L1 through the tracked connection). */
export async function fillL1(reader: Instance, key: string, expected: unknown): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const read = await reader.probe(key);
    expect(read.value, `read ${attempt} of ${key}`).toEqual(expected);
    if (read.l1Hit && !read.l2Read) return;
  }
  expect.fail(`L1 never held ${key} after 5 reads`);
}

/** Polls `key` on `reader` (every ms) while `change` runs; ms from the end of the change until seen. */
export async function propagation(
  reader: Instance,
  key: string,
  expected: unknown,
  change: () => Promise<Timed>,
) {
  const polling = reader.awaitValue(key, expected, { intervalMs: 1, timeoutMs: 2_000 });
  await sleep(5);
  const changed = await change();
  const seen = await polling;
  expect(seen.seenAt, `${key} never became ${JSON.stringify(expected)}`).toBeDefined();
  return { fromEnd: (seen.seenAt as number) - changed.end, seen: seen.seen };
}

/**
 * `redis-cli -p <port> SET key value`: a write by a program that knows nothing of this SDK. With
 * `cluster`, `redis-cli -c` (it follows the MOVED reply to the key's master itself).
 */
export async function redisCliSet(
  port: number,
  key: string,
  value: string,
  { cluster = false } = {},
): Promise<Timed> {
  const start = now();
  const { stdout } = await run('redis-cli', [
    ...(cluster ? ['-c'] : []),
    '-p',
    String(port),
    'SET',
    key,
    value,
  ]);
  const end = now();
  expect(stdout.trim()).toBe('OK');
  return { start, end };
}

/**
 * Reads of `key` that returned a version older than one acknowledged over GUARANTEE_MS before the
 * read started. A miss is not stale (core answers misses while its breaker is open after an outage).
 */
export function olderThanAcknowledged(records: ReadRecord[], key: string, writes: Timed[]): ReadRecord[] {
  return records.filter((read) => {
    if (read.key !== key || read.error !== undefined) return false;
    let settled = 0;
    writes.forEach((write, index) => {
      if (write.end + GUARANTEE_MS < read.start) settled = index + 1;
    });
    return typeof read.value === 'number' && read.value < settled;
  });
}

export function expectNoStale(stale: ReadRecord[], reads: number, what: string): void {
  expect(
    stale.length,
    `${what}: ${stale.length} of ${reads} reads returned a value replaced over ${GUARANTEE_MS} ms before they started, e.g. ${JSON.stringify(stale.slice(0, 3))}`,
  ).toBe(0);
}
