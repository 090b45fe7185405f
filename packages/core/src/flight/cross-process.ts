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
): Promise<LeaseDecision> {
  const leases = context.store.leases;
  if (leases === undefined) return { kind: 'fetch', plan: { kind: 'plain' } };
  const key = flight.key;
  const deadline = performance.now() + lease.waitMs;
  while (true) {
    flight.assertOpen();
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
      return { kind: 'fetch', plan: { kind: 'plain' } };
    }
    if (acquired) return { kind: 'fetch', plan: { kind: 'lease', token } };
    flight.leaseToken = undefined;
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
