import { type Cache, CacheError, type Clock, type Duration, parseDuration } from '@org/cache-core';
import { ALL_RECORDS, type InvalidationEvent, parseInvalidationEvent } from './event.js';
import type { ApplyOutcome } from './outcome.js';
import { RecentChanges } from './recent-changes.js';
import {
  type EntityRule,
  type InvalidationPlan,
  type InvalidationRules,
  mergePlans,
  planFor,
  SYSTEM_FIELDS,
  touchesOnlyIgnoredFields,
  wholeEntityPlan,
} from './rules.js';
import type { InvalidationSource, SourceContext } from './source.js';
import {
  emptyCounters,
  type InvalidatorCounters,
  type InvalidatorHealth,
  subscriberStatus,
} from './subscriber-health.js';

export interface InvalidatorOptions {
  /** The health check's name in `cache.health().checks`. Default `cdc`. */
  name?: string;
  /** Fields an UPDATE may touch without invalidating anything. Default: Salesforce's system fields. */
  ignoreFields?: readonly string[];
  /** How many recent change ids are remembered to drop re-deliveries. Default 10,000. */
  dedupeCapacity?: number;
  /** Above this lag (now minus commit time) the subscriber reports `degraded`. Default 60 s. */
  maxLag?: Duration;
  /** Defaults to the system clock. */
  clock?: Clock;
}

/**
 * Turns change events into cache invalidations by per-entity rules, drops re-delivered changes,
 * and reports its health through `cache.health()`.
 *
 * @example
 * const cdc = createInvalidator(cache, {
 *   Order: { record: (id) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } },
 * });
 * await cdc.subscribe(redisStreamSource({ url, stream: 'cdc', group: 'bff' }));
 */
export class Invalidator<R extends InvalidationRules = InvalidationRules> {
  readonly name: string;
  readonly #cache: Cache;
  readonly #rules: ReadonlyMap<string, EntityRule>;
  /** Per entity, the fields an UPDATE may touch without invalidating anything. */
  readonly #ignoreFields: ReadonlyMap<string, ReadonlySet<string>>;
  readonly #recent: RecentChanges;
  readonly #inFlight = new Map<string, Promise<ApplyOutcome>>();
  readonly #sources: InvalidationSource[] = [];
  readonly #counters = emptyCounters();
  readonly #clock: Clock;
  readonly #maxLagMs: number;
  readonly #removeHealthCheck: () => void;
  #lastEventAt: number | undefined;
  #lastPosition: string | undefined;
  #lagMs: number | undefined;
  #failing = false;
  #lastError: { at: string; message: string } | undefined;
  #lastFailSafe: { at: string; reason: string } | undefined;
  #closed = false;

  constructor(cache: Cache, rules: R, options: InvalidatorOptions = {}) {
    if (rules === null || typeof rules !== 'object')
      throw new CacheError('E_INVALID_OPTION', 'createInvalidator() needs a rules object keyed by entity');
    for (const [entity, rule] of Object.entries(rules)) {
      if (rule === null || typeof rule !== 'object' || rule.all === undefined)
        throw new CacheError('E_INVALID_OPTION', `the rule for ${entity} needs an \`all\` plan`);
    }
    const capacity = options.dedupeCapacity ?? 10_000;
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new CacheError('E_INVALID_OPTION', `dedupeCapacity must be a positive integer, got ${capacity}`);
    this.name = options.name ?? 'cdc';
    this.#cache = cache;
    this.#rules = new Map(Object.entries(rules));
    const defaultIgnored = new Set(options.ignoreFields ?? SYSTEM_FIELDS);
    this.#ignoreFields = new Map(
      Object.entries(rules).map(([entity, rule]) => [
        entity,
        rule.ignoreFields ? new Set(rule.ignoreFields) : defaultIgnored,
      ]),
    );
    this.#recent = new RecentChanges(capacity);
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#maxLagMs = parseDuration(options.maxLag ?? '60s');
    this.#removeHealthCheck = cache.addHealthCheck(this.name, () => this.health());
  }

  /** The entities this invalidator has rules for. */
  get entities(): readonly string[] {
    return [...this.#rules.keys()];
  }

  /**
   * Applies one event (validated first: a malformed one rejects with E_INVALID_EVENT and is
   * counted). Rejects when the cache could not carry the plan out, so a source can retry.
   */
  async apply(input: InvalidationEvent): Promise<ApplyOutcome> {
    if (this.#closed) throw new CacheError('E_CLOSED', `invalidator ${this.name} is closed`);
    let event: InvalidationEvent;
    try {
      event = parseInvalidationEvent(input);
    } catch (error) {
      this.#recordInvalid(error);
      throw error;
    }
    const changeKeys = changeKeysOf(event);
    // The same change delivered again while it is being applied waits for that attempt and is then
    // a duplicate. If the attempt failed, the first waiter to resume retries it and any others
    // wait for that retry, so a change is never applied twice at once.
    for (;;) {
      if (changeKeys.some((key) => this.#recent.has(key))) return this.#duplicate();
      const running = changeKeys.map((key) => this.#inFlight.get(key)).find((flight) => flight !== undefined);
      if (running === undefined) break;
      await running.catch(() => undefined);
    }
    const flight = this.#applyOnce(event, changeKeys);
    for (const key of changeKeys) this.#inFlight.set(key, flight);
    try {
      return await flight;
    } finally {
      for (const key of changeKeys) if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
    }
  }

  async #applyOnce(event: InvalidationEvent, changeKeys: readonly string[]): Promise<ApplyOutcome> {
    const rule = this.#rules.get(event.entity);
    if (!rule) {
      this.#counters.ignored++;
      return { status: 'ignored', keys: 0, tags: 0, patterns: 0 };
    }
    if (touchesOnlyIgnoredFields(event, this.#ignoreFields.get(event.entity) as ReadonlySet<string>)) {
      this.#counters.skipped++;
      this.#remember(event, changeKeys);
      return { status: 'skipped', keys: 0, tags: 0, patterns: 0 };
    }
    let outcome: ApplyOutcome;
    try {
      outcome = await this.#run(await planFor(rule, event));
    } catch (error) {
      this.#recordFailure(error);
      throw error;
    }
    this.#failing = false;
    if (event.gap) this.#counters.gaps++;
    if (event.ids === ALL_RECORDS) this.#counters.overflows++;
    this.#counters.processed++;
    this.#remember(event, changeKeys);
    return outcome;
  }

  /** Runs a plan: one deleteMany, one invalidateTags, one deleteByPattern per pattern. */
  async #run(plan: Required<InvalidationPlan>): Promise<ApplyOutcome> {
    if (plan.keys.length === 0 && plan.tags.length === 0 && plan.patterns.length === 0)
      return { status: 'applied', keys: 0, tags: 0, patterns: 0 };
    const cache = this.#cache;
    await Promise.all([
      plan.keys.length > 0 ? cache.deleteMany(plan.keys) : undefined,
      plan.tags.length > 0 ? cache.invalidateTags(plan.tags) : undefined,
      ...plan.patterns.map((pattern) => cache.deleteByPattern(pattern)),
    ]);
    this.#counters.keysInvalidated += plan.keys.length;
    this.#counters.tagsInvalidated += plan.tags.length;
    this.#counters.patternsInvalidated += plan.patterns.length;
    return {
      status: 'applied',
      keys: plan.keys.length,
      tags: plan.tags.length,
      patterns: plan.patterns.length,
    };
  }

  /**
   * Drops everything the rules know about, for a source that cannot tell what it missed.
   * Rejects (and counts a failure) when the cache could not carry it out.
   */
  async failSafe(reason: string, source = 'invalidator'): Promise<void> {
    const plans = [...this.#rules].map(([entity, rule]) =>
      wholeEntityPlan(rule, { source, entity, ids: ALL_RECORDS, kind: 'unknown' }),
    );
    try {
      await this.#run(mergePlans(plans));
    } catch (error) {
      this.#recordFailure(error);
      throw error;
    }
    this.#counters.failSafes++;
    this.#lastFailSafe = { at: new Date(this.#clock.now()).toISOString(), reason };
  }

  /** Starts a source delivering to this invalidator; its health joins this one's. */
  async subscribe(source: InvalidationSource): Promise<void> {
    if (this.#closed) throw new CacheError('E_CLOSED', `invalidator ${this.name} is closed`);
    if (this.#sources.some((known) => known.name === source.name))
      throw new CacheError('E_INVALID_OPTION', `a source named ${source.name} is already subscribed`);
    const context: SourceContext = {
      apply: (event) => this.apply(event),
      failSafe: (reason) => this.failSafe(reason, source.name),
      reportInvalid: (error) => this.#recordInvalid(error),
      entities: this.entities,
    };
    this.#sources.push(source);
    try {
      await source.start(context);
    } catch (error) {
      this.#sources.splice(this.#sources.indexOf(source), 1);
      throw error;
    }
  }

  counters(): InvalidatorCounters {
    return { ...this.#counters };
  }

  health(): InvalidatorHealth {
    const sources = Object.fromEntries(this.#sources.map((source) => [source.name, source.health()]));
    const { status, reason } = this.#closed
      ? { status: 'down' as const, reason: 'invalidator is closed' }
      : subscriberStatus({
          sources: Object.values(sources),
          failing: this.#failing,
          lagMs: this.#lagMs,
          maxLagMs: this.#maxLagMs,
        });
    return {
      status,
      ...(reason === undefined ? {} : { reason }),
      ...(this.#lastEventAt === undefined ? {} : { lastEventAt: new Date(this.#lastEventAt).toISOString() }),
      ...(this.#lastPosition === undefined ? {} : { lastPosition: this.#lastPosition }),
      ...(this.#lagMs === undefined ? {} : { lagMs: this.#lagMs }),
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      ...(this.#lastFailSafe === undefined ? {} : { lastFailSafe: this.#lastFailSafe }),
      counters: this.counters(),
      sources,
    };
  }

  /** Stops every source and leaves `cache.health()`. Idempotent; does not close the cache. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#sources.map((source) => source.stop()));
    this.#removeHealthCheck();
  }

  #duplicate(): ApplyOutcome {
    this.#counters.duplicates++;
    return { status: 'duplicate', keys: 0, tags: 0, patterns: 0 };
  }

  #remember(event: InvalidationEvent, changeKeys: readonly string[]): void {
    for (const key of changeKeys) this.#recent.add(key);
    const now = this.#clock.now();
    this.#lastEventAt = now;
    if (event.position !== undefined) this.#lastPosition = event.position;
    if (event.committedAt !== undefined) this.#lagMs = Math.max(0, now - event.committedAt);
  }

  #recordInvalid(error: unknown): void {
    this.#counters.invalid++;
    this.#lastError = { at: new Date(this.#clock.now()).toISOString(), message: messageOf(error) };
  }

  #recordFailure(error: unknown): void {
    this.#counters.failed++;
    this.#failing = true;
    this.#lastError = { at: new Date(this.#clock.now()).toISOString(), message: messageOf(error) };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The id under which a change is remembered: its change id, or else its source position. A
 * position is only unique within one stream (Salesforce replay ids are unique per org and
 * channel), so it is scoped by entity and never used when the event carries a change id: two
 * different changes that happen to share a replay id on two channels must both be applied.
 */
function changeKeysOf(event: InvalidationEvent): string[] {
  if (event.changeId !== undefined) return [`${event.source}\u0000change\u0000${event.changeId}`];
  if (event.position !== undefined)
    return [`${event.source}\u0000${event.entity}\u0000position\u0000${event.position}`];
  return [];
}

export function createInvalidator<R extends InvalidationRules>(
  cache: Cache,
  rules: R,
  options?: InvalidatorOptions,
): Invalidator<R> {
  return new Invalidator(cache, rules, options);
}
