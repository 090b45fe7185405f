import { z } from 'zod';
import { ALL_RECORDS, type ChangeKind, type InvalidationEvent, invalidEvent } from './event.js';

/**
 * Salesforce Change Data Capture events, as the Pub/Sub API delivers them once decoded from Avro
 * (`salesforce-pubsub-api-client`: `{ replayId, payload }`, longs as number, bigint or string)
 * and as the CometD streaming API does (`{ channel, data: { schema, payload, event: { replayId } } }`,
 * or its `data` alone).
 */

/** An Avro long: a JS number, a bigint, or a decimal string (how decoders differ). */
const avroLong = z.union([
  z.number().int(),
  z.bigint(),
  z.string().regex(/^-?\d{1,20}$/, 'a decimal integer'),
]);

/** Field lists; a Pub/Sub client that did not decode them leaves bitmaps (`0x...`) instead of names. */
const fieldList = z.array(z.string()).nullish();

export const CHANGE_TYPES = [
  'CREATE',
  'UPDATE',
  'DELETE',
  'UNDELETE',
  'GAP_CREATE',
  'GAP_UPDATE',
  'GAP_DELETE',
  'GAP_UNDELETE',
  'GAP_OVERFLOW',
] as const;

export const changeEventHeaderSchema = z.object({
  entityName: z.string().min(1).max(255),
  recordIds: z.array(z.string().min(1).max(255)).max(10_000).nullish(),
  changeType: z.enum(CHANGE_TYPES),
  changeOrigin: z.string().nullish(),
  transactionKey: z.string().max(255).nullish(),
  sequenceNumber: avroLong.nullish(),
  commitTimestamp: avroLong.nullish(),
  commitNumber: avroLong.nullish(),
  commitUser: z.string().nullish(),
  changedFields: fieldList,
  nulledFields: fieldList,
  diffFields: fieldList,
});

export type ChangeEventHeader = z.infer<typeof changeEventHeaderSchema>;

const payloadSchema = z.looseObject({ ChangeEventHeader: changeEventHeaderSchema });

/** A replay id: a long, or the raw 8 big-endian bytes the gRPC API sends. */
const replayIdSchema = z.union([avroLong, z.instanceof(Uint8Array)]);

/**
 * One event: the Pub/Sub API's `{ replayId, payload }` or CometD's `data` (`{ schema, payload,
 * event: { replayId } }`). Both have a `payload`, so one shape reads the replay id from either place.
 */
const eventShape = z.looseObject({
  replayId: replayIdSchema.nullish(),
  payload: payloadSchema,
  event: z.looseObject({ replayId: replayIdSchema.nullish() }).nullish(),
});
const cometdMessageShape = z.looseObject({ channel: z.string().optional(), data: eventShape });

export interface SalesforceNormalizeOptions {
  /** The event's `source`. Default `salesforce`. */
  source?: string;
}

/**
 * One Salesforce change event as an `InvalidationEvent`. Throws a CacheError `E_INVALID_EVENT`
 * that says what is wrong with anything else.
 *
 * - several `recordIds` (a merged event) -> each id;
 * - a wildcard id (`001*`, a key prefix and `*`) -> every record of the entity;
 * - `GAP_*` -> the listed ids, marked `gap` so no field filter ever skips them;
 *   `GAP_OVERFLOW` -> every record of the entity;
 * - `changeId` = transactionKey + sequenceNumber (identifies a re-delivery), `position` = the
 *   replay id (identifies one only when there is no changeId: it is unique per channel).
 */
export function normalizeSalesforceEvent(
  input: unknown,
  options: SalesforceNormalizeOptions = {},
): InvalidationEvent {
  const { payload, replayId } = unwrap(input);
  const header = payload.ChangeEventHeader;
  const gap = header.changeType.startsWith('GAP_');
  const overflow = header.changeType === 'GAP_OVERFLOW';
  const recordIds = header.recordIds ?? [];
  if (!overflow && recordIds.length === 0)
    throw invalidEvent(`a ${header.changeType} event for ${header.entityName} names no recordIds`);
  const wildcard = recordIds.some((id) => id.endsWith('*'));

  const event: InvalidationEvent = {
    source: options.source ?? 'salesforce',
    entity: header.entityName,
    ids: overflow || wildcard ? ALL_RECORDS : [...new Set(recordIds)],
    kind: kindOf(header.changeType),
  };
  if (gap) event.gap = true;
  const fields = header.changeType === 'UPDATE' ? changedFieldsOf(header) : undefined;
  if (fields) event.fields = fields;
  const values = valuesOf(payload);
  if (values) event.values = values;
  if (replayId !== undefined) event.position = replayId;
  if (header.transactionKey && header.sequenceNumber !== undefined && header.sequenceNumber !== null)
    event.changeId = `${header.transactionKey}:${longToString(header.sequenceNumber)}`;
  const committedAt = header.commitTimestamp == null ? undefined : Number(header.commitTimestamp);
  if (committedAt !== undefined && Number.isFinite(committedAt) && committedAt >= 0)
    event.committedAt = committedAt;
  return event;
}

function unwrap(input: unknown): { payload: z.infer<typeof payloadSchema>; replayId: string | undefined } {
  const direct = eventShape.safeParse(input);
  if (direct.success) return eventParts(direct.data);
  const message = cometdMessageShape.safeParse(input);
  if (message.success) return eventParts(message.data.data);
  // A CometD message is reported against its own shape, anything else against the event's: the
  // errors then name the header fields that are wrong.
  throw invalidEvent('not a Salesforce change event', isCometdMessage(input) ? message.error : direct.error);
}

function eventParts(event: z.infer<typeof eventShape>) {
  return { payload: event.payload, replayId: replayIdOf(event.replayId ?? event.event?.replayId) };
}

function isCometdMessage(input: unknown): boolean {
  return typeof input === 'object' && input !== null && 'data' in input && !('payload' in input);
}

function kindOf(changeType: (typeof CHANGE_TYPES)[number]): ChangeKind {
  switch (changeType) {
    case 'CREATE':
    case 'GAP_CREATE':
      return 'create';
    case 'UPDATE':
    case 'GAP_UPDATE':
      return 'update';
    case 'DELETE':
    case 'GAP_DELETE':
      return 'delete';
    case 'UNDELETE':
    case 'GAP_UNDELETE':
      return 'undelete';
    case 'GAP_OVERFLOW':
      return 'unknown';
  }
}

/** An undecoded field bitmap: `0x1A`, or `3-0x02` for the fields inside compound field 3. */
const bitmap = /^(?:\d+-)?0x[0-9a-f]*$/i;

/**
 * The fields an UPDATE touched, or undefined when the event does not say: before API 60 there
 * is no changedFields, and an undecoded bitmap (`0x...`) names no field.
 */
function changedFieldsOf(header: ChangeEventHeader): string[] | undefined {
  const fields = [
    ...(header.changedFields ?? []),
    ...(header.nulledFields ?? []),
    ...(header.diffFields ?? []),
  ];
  if (fields.length === 0 || fields.some((field) => bitmap.test(field))) return undefined;
  return [...new Set(fields)];
}

/** The record's non-null field values (unchanged fields are null in a change event). */
function valuesOf(payload: Record<string, unknown>): Record<string, unknown> | undefined {
  const values: Record<string, unknown> = {};
  let any = false;
  for (const [field, value] of Object.entries(payload)) {
    // '__proto__' would set the prototype of `values`, letting an event fake any field a rule reads.
    if (field === 'ChangeEventHeader' || field === '__proto__' || value === null || value === undefined)
      continue;
    values[field] = jsonSafe(value);
    any = true;
  }
  return any ? values : undefined;
}

/** Avro longs may arrive as bigint: JSON cannot carry them, so they become decimal strings. */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) if (key !== '__proto__') copy[key] = jsonSafe(inner);
    return copy;
  }
  return value;
}

function replayIdOf(replayId: z.infer<typeof replayIdSchema> | null | undefined): string | undefined {
  if (replayId === undefined || replayId === null) return undefined;
  if (replayId instanceof Uint8Array) {
    let value = 0n;
    for (const byte of replayId) value = (value << 8n) | BigInt(byte);
    return value.toString();
  }
  return longToString(replayId);
}

function longToString(value: number | bigint | string): string {
  return typeof value === 'string' ? BigInt(value).toString() : value.toString();
}
