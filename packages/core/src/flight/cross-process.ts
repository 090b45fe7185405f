import type { Scope } from '../config/scope.js';
import type { ReadOutcome } from '../entry/entries.js';
import { createTokenSource } from '../entry/tokens.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { LeaseSettings, WritePlan } from './types.js';

const newLeaseToken = createTokenSource();

export type LeaseDecision = { kind: 'fetch'; plan: WritePlan } | { kind: 'found'; outcome: ReadOutcome };

/**
 * Decides who fetches a key that missed, across processes sharing the store. The process that
 * takes the lease fetches and commits through it; the others wait for the lease to go (woken by
 * the store, or at the latest after `waitMs`), then read what the holder wrote. If the holder
 * wrote nothing, the waiter tries to take the lease itself; once its wait is used up it fetches
 * without writing (the holder still may). A store that cannot answer leases degrades to a plain
 * write: its writes would fail anyway.
 */
export async function decideFetcher(
  context: CacheContext,
  flight: Flight,
  scope: Scope,
  lease: LeaseSettings,
  /** The caller already found the lease held (a batch tries every key's lease at once): wait first. */
  heldElsewhere = false,
): Promise<LeaseDecision> {
  const leases = context.store.leases;
  if (leases === undefined) return { kind: 'fetch', plan: { kind: 'plain' } };
  const key = flight.key;
  const deadline = performance.now() + lease.waitMs;
  let waitFirst = heldElsewhere;
  while (true) {
    flight.assertOpen();
    if (!waitFirst) {
      const plan = await tryLease(context, flight, lease);
      if (plan !== undefined) return { kind: 'fetch', plan };
    }
    waitFirst = false;
    const remaining = deadline - performance.now();
    if (remaining <= 0) return { kind: 'fetch', plan: { kind: 'none' } };
    await leases.waitForRelease(key, remaining, flight.waitSignal);
    flight.assertOpen();
    const outcome = await context.entries.read(key, scope);
    if (outcome.kind === 'fresh') return { kind: 'found', outcome };
    // The store stopped answering while we waited: fetch now rather than spend another deadline.
    if (outcome.kind === 'error') return { kind: 'fetch', plan: { kind: 'plain' } };
  }
}

/**
 * One attempt at a flight's lease: the plan to write with, or `undefined` when another process
 * holds it. A store that cannot answer degrades to a plain write.
 */
export async function tryLease(
  context: CacheContext,
  flight: Flight,
  lease: LeaseSettings,
): Promise<WritePlan | undefined> {
  const leases = context.store.leases;
  if (leases === undefined) return { kind: 'plain' };
  const key = flight.key;
  const token = newLeaseToken();
  // Known to the flight before the acquire is sent, so that a close() meanwhile releases it.
  flight.leaseToken = token;
  let acquired: boolean;
  try {
    acquired = await leases.acquire(key, token, lease.ttlMs);
  } catch {
    // The acquire may still have reached the store (it timed out, not failed): release the
    // token so the key is not blocked for the lease's lifetime. Straight to the driver, past
    // the breaker, on the same connection: the store runs it right after the acquire.
    flight.leaseToken = undefined;
    context.store.driver.leases?.release(key, token).catch(() => {});
    return { kind: 'plain' };
  }
  if (acquired) return { kind: 'lease', token };
  flight.leaseToken = undefined;
  return undefined;
}
