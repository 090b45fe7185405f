import { CacheError } from '@org/cache-core';
import { z } from 'zod';

export const CHANGE_KINDS = ['create', 'update', 'delete', 'undelete', 'unknown'] as const;

/** What happened to the records; `unknown` when the source only knows that something did. */
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Every record of the entity: wildcard ids, an overflow, a fail-safe. */
export const ALL_RECORDS = '*';

/**
 * One change in a source system, in the shape every rule and source understands. Sources
 * normalise their own formats into it (see `normalizeSalesforceEvent`).
 */
export interface InvalidationEvent {
  /** The system the change happened in: `salesforce`, `whmcs`, ... */
  source: string;
  /** The changed entity: `Order`, `Product2`. Rules are chosen by it. */
  entity: string;
  /** The changed records' ids, or `'*'` for every record of the entity. */
  ids: readonly string[] | typeof ALL_RECORDS;
  kind: ChangeKind;
  /**
   * The source lost the event's body (a Salesforce GAP_* event): the ids are known but not what
   * changed, so it is never filtered by fields.
   */
  gap?: boolean;
  /** The fields an update touched, when the source says; absent means unknown, so all of them. */
  fields?: readonly string[];
  /** Field values the event carries (a changed order's `AccountId`), for rules that need them. */
  values?: Readonly<Record<string, unknown>>;
  /**
   * The source's resumable position of this event (a Salesforce replay id). Identifies a
   * re-delivery only when there is no `changeId`, and only within the entity.
   */
  position?: string;
  /** Identifies the change across re-deliveries (Salesforce: transactionKey and sequenceNumber). */
  changeId?: string;
  /** When the source committed the change (ms since the epoch): the lag is now minus this. */
  committedAt?: number;
}

const name = z.string().min(1).max(255);

export const invalidationEventSchema = z.object({
  source: name,
  entity: name,
  ids: z.union([z.literal(ALL_RECORDS), z.array(z.string().min(1).max(255)).min(1).max(10_000)]),
  kind: z.enum(CHANGE_KINDS),
  gap: z.boolean().optional(),
  fields: z.array(z.string().max(1_000)).max(10_000).optional(),
  values: z.record(z.string(), z.unknown()).optional(),
  position: z.string().max(255).optional(),
  changeId: z.string().max(512).optional(),
  committedAt: z.number().finite().nonnegative().optional(),
});

/**
 * Validates an event from an untrusted transport (a stream, an HTTP body). Throws a CacheError
 * `E_INVALID_EVENT` that names every problem.
 */
export function parseInvalidationEvent(input: unknown): InvalidationEvent {
  const parsed = invalidationEventSchema.safeParse(input);
  if (!parsed.success) throw invalidEvent('not an invalidation event', parsed.error);
  return parsed.data;
}

export function invalidEvent(what: string, error?: z.ZodError): CacheError {
  const details = error?.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  return new CacheError('E_INVALID_EVENT', details ? `${what}: ${details}` : what, { cause: error });
}
