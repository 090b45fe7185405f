import type { Scope } from '../config/scope.js';
import type { FreshOutcome, ReadOutcome } from '../entry/entries.js';
import { createTokenSource } from '../entry/tokens.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { LeaseSettings, WritePlan } from './types.js';

const newLeaseToken = createTokenSource();

export type LeaseDecision = { kind: 'fetch'; plan: WritePlan } | { kind: 'found'; outcome: ReadOutcome };

/**
 * Decides who fetches a key that missed, across processes sharing the store. The process that
 * takes the lease reads the entry once more (`writtenMeanwhile`), then fetches and commits through
 * the lease unless that read found it written; the others wait for the lease to go (woken by
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
      if (plan !== undefined) {
        const written =
          plan.kind === 'lease' ? await writtenMeanwhile(context, flight, scope, plan) : undefined;
        return written === undefined ? { kind: 'fetch', plan } : { kind: 'found', outcome: written };
      }
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
 * Reads the entry again once its lease is taken: another process may have held the lease, written
 * the entry and let the lease go between this caller's miss and its acquire. Fetching then would
 * be a second upstream call for one expiry (seen with 4 processes on a hot key crossing its ttl
 * while one of them refreshed it). A fresh entry releases the lease and is the answer; anything
 * else (still missing, stale, unreadable) leaves the lease held for the fetch.
 */
export async function writtenMeanwhile(
  context: CacheContext,
  flight: Flight,
  scope: Scope,
  plan: WritePlan,
): Promise<FreshOutcome | undefined> {
  const outcome = await context.entries.read(flight.key, scope);
  if (outcome.kind !== 'fresh') return undefined;
  await releaseLease(context, flight, plan);
  return outcome;
}

/** Gives up the lease a plan holds, unless its write consumed it. */
export async function releaseLease(context: CacheContext, flight: Flight, plan: WritePlan): Promise<void> {
  if (plan.kind === 'lease' && flight.leaseToken === plan.token) {
    flight.leaseToken = undefined;
    // A lease that cannot be released expires by itself; waiters are bounded by their own timeout.
    await context.store.leases?.release(flight.key, plan.token).catch(() => {});
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
