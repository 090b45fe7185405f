import { ALL_RECORDS, type InvalidationEvent } from './event.js';

/** What one event drops from the cache. Keys and patterns are relative to the cache's prefix. */
export interface InvalidationPlan {
  keys?: readonly string[];
  tags?: readonly string[];
  /** Globs for `cache.deleteByPattern` (use `escapeGlob` for ids inside them). */
  patterns?: readonly string[];
}

/** An invalidation plan, or a function of the event that makes one. */
export type PlanOf<Args extends unknown[]> = InvalidationPlan | ((...args: Args) => InvalidationPlan);

/**
 * How changes to one entity reach the cache.
 *
 * @example
 * Order: {
 *   record: (id) => ({ tags: [`order:${id}`] }),
 *   collections: { tags: ['orders:lists'] },
 *   all: { patterns: ['orders:*'] },
 * }
 */
export interface EntityRule {
  /**
   * What depends on one record, for every kind of change: its entries' keys and the tags its
   * dependents were stored with. Tagging a parent's entry with its children's ids is what lets a
   * child's DELETE (which carries no parent id) reach the parent.
   */
  record?: (id: string, event: InvalidationEvent) => InvalidationPlan;
  /**
   * Entries that list records of the entity (collections, searches, counts): a create, delete or
   * undelete changes their membership, so they are dropped for those kinds and for `unknown`.
   * Cached "not found" (`null`) entries of the ids go through `record` on every kind.
   */
  collections?: PlanOf<[event: InvalidationEvent]>;
  /**
   * Everything cached about the entity: used when an event names every record (wildcard ids, a
   * GAP_OVERFLOW) and when a source fails safe. Required, so no event can be left unhandled.
   */
  all: PlanOf<[event: InvalidationEvent]>;
  /**
   * Looks up further dependents, possibly asynchronously (say, the parents of a deleted child
   * from an index the service keeps). Runs for every applied event; merged with the rest.
   */
  resolve?: (event: InvalidationEvent) => InvalidationPlan | Promise<InvalidationPlan>;
  /**
   * An UPDATE that touched only these fields is skipped (it changed nothing a reader sees).
   * Defaults to the invalidator's `ignoreFields`; `[]` never skips.
   */
  ignoreFields?: readonly string[];
}

export type InvalidationRules = Record<string, EntityRule>;

/** Fields Salesforce changes on every save; an UPDATE of only these changed nothing cached. */
export const SYSTEM_FIELDS: readonly string[] = ['LastModifiedDate', 'SystemModstamp', 'LastModifiedById'];

/** True when the event is an UPDATE whose listed fields are all ignorable. Never for a gap. */
export function touchesOnlyIgnoredFields(
  event: InvalidationEvent,
  ignoreFields: ReadonlySet<string>,
): boolean {
  if (event.kind !== 'update' || event.gap === true || event.fields === undefined) return false;
  if (event.fields.length === 0 || ignoreFields.size === 0) return false;
  return event.fields.every((field) => ignoreFields.has(field));
}

const membershipKinds = new Set(['create', 'delete', 'undelete', 'unknown']);

/** Everything the rule says this event drops, de-duplicated. */
export async function planFor(
  rule: EntityRule,
  event: InvalidationEvent,
): Promise<Required<InvalidationPlan>> {
  const plans: InvalidationPlan[] = [];
  if (event.ids === ALL_RECORDS) {
    plans.push(evaluate(rule.all, event));
  } else if (rule.record) {
    for (const id of event.ids) plans.push(rule.record(id, event));
  }
  if (rule.collections && membershipKinds.has(event.kind)) plans.push(evaluate(rule.collections, event));
  if (rule.resolve) plans.push(await rule.resolve(event));
  return mergePlans(plans);
}

export function wholeEntityPlan(rule: EntityRule, event: InvalidationEvent): Required<InvalidationPlan> {
  const plans = [evaluate(rule.all, event)];
  if (rule.collections) plans.push(evaluate(rule.collections, event));
  return mergePlans(plans);
}

function evaluate(plan: PlanOf<[InvalidationEvent]>, event: InvalidationEvent): InvalidationPlan {
  return typeof plan === 'function' ? plan(event) : plan;
}

export function mergePlans(plans: readonly InvalidationPlan[]): Required<InvalidationPlan> {
  const keys = new Set<string>();
  const tags = new Set<string>();
  const patterns = new Set<string>();
  for (const plan of plans) {
    for (const key of plan.keys ?? []) keys.add(key);
    for (const tag of plan.tags ?? []) tags.add(tag);
    for (const pattern of plan.patterns ?? []) patterns.add(pattern);
  }
  return { keys: [...keys], tags: [...tags], patterns: [...patterns] };
}
