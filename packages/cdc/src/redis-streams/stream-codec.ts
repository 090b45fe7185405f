import { type CacheError, isCacheError } from '@org/cache-core';
import { type InvalidationEvent, invalidEvent, parseInvalidationEvent } from '../event.js';

/** The id before every entry: reading a pending list, or XAUTOCLAIM, from the start. */
export const STREAM_START = '0-0';

/** The one field of a stream entry: the event as JSON. */
export const EVENT_FIELD = 'event';

/** One entry as XREADGROUP / XAUTOCLAIM return it; `fields` is null for an entry trimmed while pending. */
export interface StreamEntry {
  id: string;
  fields: string[] | null;
}

/** The event, or why the entry is not one (an E_INVALID_EVENT error). */
export type DecodedEntry = { event: InvalidationEvent } | { malformed: CacheError };

/** The XADD field/value pair for an event (validated first: a malformed event never reaches Redis). */
export function encodeEvent(event: InvalidationEvent): [string, string] {
  return [EVENT_FIELD, JSON.stringify(parseInvalidationEvent(event))];
}

/**
 * An entry's event, or why it is not one (no `event` field, not JSON, not an invalidation event).
 * Never throws: the stream is an untrusted transport.
 */
export function decodeEntry(fields: readonly string[]): DecodedEntry {
  let json: string | undefined;
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === EVENT_FIELD) json = fields[index + 1];
  }
  if (json === undefined)
    return { malformed: invalidEvent(`the stream entry has no \`${EVENT_FIELD}\` field`) };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return {
      malformed: invalidEvent(
        `the stream entry's \`${EVENT_FIELD}\` is not JSON: ${(error as Error).message}`,
      ),
    };
  }
  try {
    return { event: parseInvalidationEvent(parsed) };
  } catch (error) {
    return { malformed: isCacheError(error) ? error : invalidEvent(String(error)) };
  }
}

/**
 * The entries of an XREADGROUP reply for one stream: RESP2 (`[[stream, entries]]`) or RESP3 (a
 * map from stream name to entries, as an object or a Map); null (BLOCK timed out) is none.
 */
export function entriesOfRead(reply: unknown): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) return reply.flatMap((stream) => entriesOf((stream as unknown[])[1]));
  const values = reply instanceof Map ? [...reply.values()] : Object.values(reply as object);
  return values.flatMap((entries) => entriesOf(entries));
}

/** `[[id, [field, value, ...] | null], ...]` */
export function entriesOf(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.map((entry) => {
    const [id, fields] = entry as [unknown, unknown];
    return {
      id: String(id),
      fields: Array.isArray(fields) ? fields.map((part) => String(part)) : null,
    };
  });
}
