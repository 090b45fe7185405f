import type { Scope } from '../config/scope.js';
import type { WriteRequest } from '../config/write-request.js';
import type { ReadOutcome } from '../entry/entries.js';
import { traceFlight } from '../observe/events.js';
import { type BatchFetcher, valuesByKey } from './batch-result.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import { decideFetcher, releaseLease, tryLease } from './cross-process.js';
import { snapshotStaticTags, storeFetched } from './fetch-and-store.js';
import { NO_DIRECTIVES } from './fetcher-control.js';
import { flightTagsOf } from './get-or-set.js';
import { flightMessage, recordReadProblem } from './record.js';
import { runWithDeadline } from './run-fetcher.js';
import type { FlightOutcome, StaleEntry, WritePlan } from './types.js';

/** One distinct key of a batch: its full key, and what the batch fetcher sees for it (a user key or a bucket id). */
export interface BatchKey {
  readonly key: string;
  readonly handle: unknown;
}

/** A batch call, resolved once: where it reads and writes, and how the fetcher's keys map back. */
export interface BatchCall {
  readonly context: CacheContext;
  readonly scope: Scope;
  readonly request: WriteRequest;
  readonly fetcher: BatchFetcher<unknown, unknown>;
  /** The full key of a key (or id) the fetcher returned in a Map; throws for an invalid one. */
  readonly fullKeyOf: (handle: unknown) => string;
}

/** A key this batch reads and, if it misses, fetches: a flight of its own that others can join. */
interface Member {
  readonly item: BatchKey;
  readonly flight: Flight;
  stale: StaleEntry | undefined;
  plan: WritePlan;
  resolve(outcome: FlightOutcome): void;
  reject(error: unknown): void;
}

/**
 * get-or-set for many keys at once. Each distinct key is answered by a synchronous hit, by a
 * flight already running for it in this process (joined, as getOrSet joins), or by a flight this
 * batch starts and registers in the coalescer, so that concurrent getOrSet callers join it and
 * invalidations mark it. The batch's flights read the store in one round trip; the keys that
 * missed and whose lease this process takes (or that have no leases) go to ONE call of the batch
 * fetcher; keys another process holds the lease of are waited for as getOrSet waits, then read,
 * and those the holder wrote nothing for are fetched together in one more call. Each value is
 * written on its own, through its own flight's no-stale-write checks and lease.
 *
 * Returns one promise per key, in order: never rejected by the batch's own machinery except with
 * that key's error (a failed fetch without a stale value, a refused value, a closed cache).
 */
export function getManyOrSet(call: BatchCall, keys: readonly BatchKey[]): Array<Promise<FlightOutcome>> {
  const { context, scope, request } = call;
  const answers: Array<Promise<FlightOutcome>> = [];
  const toRead: Member[] = [];
  const known = new Map<Member, ReadOutcome>();
  for (const item of keys) {
    const fast = context.entries.readSync(item.key, scope);
    if (fast !== undefined && fast.kind === 'fresh') {
      answers.push(Promise.resolve({ source: 'cache', value: fast.value }));
      continue;
    }
    const running = context.coalescer.find(item.key);
    if (running?.promise !== undefined) {
      running.waiters++;
      scope.metrics.coalesced++;
      const joinedAt = context.coalescer.epoch;
      // As getOrSet's joiners: a value depending on a tag invalidated before this batch joined is
      // not for it; that key is asked again, on its own.
      answers.push(
        (running.promise as Promise<FlightOutcome>).then((outcome) =>
          outcome.lateTags !== undefined && running.invalidatedBy(outcome.lateTags, joinedAt)
            ? askAgain(call, item)
            : outcome,
        ),
      );
      continue;
    }
    const member = startMember(context, item, request);
    answers.push(member.flight.promise as Promise<FlightOutcome>);
    if (fast === undefined) toRead.push(member);
    else known.set(member, fast);
  }
  if (toRead.length > 0 || known.size > 0) void runBatch(call, toRead, known);
  return answers;
}

function askAgain(call: BatchCall, item: BatchKey): Promise<FlightOutcome> {
  call.context.assertOpen(); // a closed cache starts no fetch
  const member = startMember(call.context, item, call.request);
  void runBatch(call, [member], new Map());
  return member.flight.promise as Promise<FlightOutcome>;
}

function startMember(context: CacheContext, item: BatchKey, request: WriteRequest): Member {
  const flight = context.coalescer.start(item.key, flightTagsOf(request.tags));
  let settle!: { resolve(outcome: FlightOutcome): void; reject(error: unknown): void };
  const work = new Promise<FlightOutcome>((resolve, reject) => {
    settle = { resolve, reject };
  });
  flight.promise = flight.run(work);
  // Finished as soon as it settles, as getOrSet's flights are: a later caller reads afresh.
  const finish = () => context.coalescer.finish(flight);
  return {
    item,
    flight,
    stale: undefined,
    plan: { kind: 'plain' },
    resolve: (outcome) => {
      finish();
      settle.resolve(outcome);
    },
    reject: (error) => {
      finish();
      settle.reject(error);
    },
  };
}

async function runBatch(call: BatchCall, toRead: Member[], known: Map<Member, ReadOutcome>): Promise<void> {
  const { context, scope } = call;
  const members = [...known.keys(), ...toRead];
  try {
    const outcomes = new Map(known);
    if (toRead.length > 0) {
      const read = await context.entries.readMany(
        toRead.map((member) => member.item.key),
        scope,
      );
      toRead.forEach((member, index) => {
        outcomes.set(member, read[index] as ReadOutcome);
      });
    }
    const missing: Member[] = [];
    const unreadable = new Set<Member>();
    for (const member of members) {
      const outcome = outcomes.get(member) as ReadOutcome;
      if (outcome.kind === 'fresh') {
        member.resolve({ source: 'cache', value: outcome.value });
        continue;
      }
      recordReadProblem(context, scope, member.item.key, outcome);
      if (outcome.kind === 'stale')
        member.stale = { value: outcome.value, createdAt: outcome.createdAt, livesUntil: outcome.livesUntil };
      // As in getOrSet: a store that cannot read will not answer leases either.
      if (outcome.kind === 'error') unreadable.add(member);
      missing.push(member);
    }
    await fetchMissing(call, missing, unreadable);
  } catch (error) {
    // Settling twice is harmless: only members still waiting take this error.
    for (const member of members) member.reject(error);
  }
}

async function fetchMissing(call: BatchCall, missing: Member[], unreadable: Set<Member>): Promise<void> {
  const lease = call.context.lease;
  if (missing.length === 0) return;
  if (lease === undefined) return fetchGroup(call, missing);
  const held = new Set<Member>();
  await Promise.all(
    missing.map(async (member) => {
      if (unreadable.has(member)) return;
      const plan = await tryLease(call.context, member.flight, lease);
      if (plan === undefined) held.add(member);
      else member.plan = plan;
    }),
  );
  const answered = await writtenMeanwhileMany(call, missing);
  const waits = [...held].map(async (member) => {
    try {
      const decision = await decideFetcher(call.context, member.flight, call.scope, lease, true);
      if (decision.kind === 'fetch') {
        member.plan = decision.plan;
        return member;
      }
      call.scope.metrics.coalesced++;
      member.resolve({ source: 'remote', value: (decision.outcome as { value: unknown }).value });
    } catch (error) {
      member.reject(error);
    }
    return undefined;
  });
  const leftovers = Promise.all(waits).then((members) =>
    fetchGroup(
      call,
      members.filter((member) => member !== undefined),
    ),
  );
  await Promise.all([
    fetchGroup(
      call,
      missing.filter((member) => !held.has(member) && !answered.has(member)),
    ),
    leftovers,
  ]);
}

/**
 * `writtenMeanwhile` for a batch, in one read: the keys whose lease this call took are read again,
 * and those another process wrote between this call's read and its acquire are answered from the
 * store (their leases released) instead of fetched. Returns the members so answered.
 */
async function writtenMeanwhileMany(call: BatchCall, missing: Member[]): Promise<Set<Member>> {
  const answered = new Set<Member>();
  const leased = missing.filter((member) => member.plan.kind === 'lease');
  if (leased.length === 0) return answered;
  const outcomes = await call.context.entries.readMany(
    leased.map((member) => member.item.key),
    call.scope,
  );
  await Promise.all(
    leased.map(async (member, index) => {
      const outcome = outcomes[index] as ReadOutcome;
      if (outcome.kind !== 'fresh') return;
      answered.add(member);
      await releaseLease(call.context, member.flight, member.plan);
      call.scope.metrics.coalesced++;
      member.resolve({ source: 'remote', value: outcome.value });
    }),
  );
  return answered;
}

/** One call of the batch fetcher for these members, then each value written on its own. */
async function fetchGroup(call: BatchCall, members: Member[]): Promise<void> {
  if (members.length === 0) return;
  const { context, scope, request } = call;
  try {
    const statics = await snapshotStaticTags(context, request);
    let values: Map<string, unknown>;
    try {
      const flights = members.map((member) => member.flight);
      values = await traceFlight(
        'fetch',
        () => ({ ...flightMessage(context, scope, flights[0] as Flight), flights }),
        () =>
          runWithDeadline(context, scope, flights, request.fetchTimeoutMs, async (signal) => {
            const result = await call.fetcher(
              members.map((member) => member.item.handle),
              Object.freeze({ signal }),
            );
            return valuesByKey(
              result,
              members.map((member) => member.item.key),
              call.fullKeyOf,
            );
          }),
      );
    } catch (error) {
      // Per key, as getOrSet: a stale value inside its grace stands in for the failed fetch.
      for (const member of members) {
        if (member.stale !== undefined) member.resolve({ source: 'stale', value: member.stale.value, error });
        else member.reject(error);
      }
      return;
    }
    await Promise.all(
      members.map(async (member) => {
        try {
          const job = { context, flight: member.flight, scope, request };
          const value = values.get(member.item.key);
          member.resolve(await storeFetched(job, member.plan, value, statics, NO_DIRECTIVES));
        } catch (error) {
          member.reject(error);
        }
      }),
    );
  } finally {
    await Promise.all(members.map((member) => releaseLease(context, member.flight, member.plan)));
  }
}
