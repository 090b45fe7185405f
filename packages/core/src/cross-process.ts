import type { CacheContext } from './context.js';
import type { ReadOutcome } from './entries.js';
import type { WritePlan } from './fetch-and-store.js';
import type { Scope } from './scope.js';

/** Cross-process lease settings, resolved from the `lease` cache option. */
export interface LeaseSettings {
  /** How long a lease lives: a crashed holder blocks nobody for longer. */
  ttlMs: number;
  /** How long a process waits for another's fetch before fetching itself. */
  waitMs: number;
}

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
  key: string,
  scope: Scope,
  lease: LeaseSettings,
): Promise<LeaseDecision> {
  const leases = context.store.leases;
  if (leases === undefined) return { kind: 'fetch', plan: { kind: 'plain' } };
  const deadline = performance.now() + lease.waitMs;
  while (true) {
    let token: string | undefined;
    try {
      token = await leases.acquire(key, lease.ttlMs);
    } catch {
      return { kind: 'fetch', plan: { kind: 'plain' } };
    }
    if (token !== undefined) return { kind: 'fetch', plan: { kind: 'lease', token } };
    const remaining = deadline - performance.now();
    if (remaining <= 0) return { kind: 'fetch', plan: { kind: 'none' } };
    await leases.waitForRelease(key, remaining);
    const outcome = await context.entries.read(key, scope);
    if (outcome.kind === 'fresh') return { kind: 'found', outcome };
  }
}
