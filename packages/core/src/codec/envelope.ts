import { dropProtoKeys, type JsonValue } from './json-value.js';

export const ENVELOPE_VERSION = 1;

/**
 * What every entry is stored as, on every store. The envelope is why falsy values survive
 * (`0` is `{ value: 0 }`, never a miss), why expiry follows the injected clock rather than the
 * store's, and why a tag invalidation can be checked on read.
 */
export interface Envelope {
  /** Format version: an entry of another version is a counted miss, replaced by the next fetch. */
  readonly v: typeof ENVELOPE_VERSION;
  readonly value: JsonValue;
  /** When it was written, by the writer's clock (diagnostics only). */
  readonly createdAt: number;
  /** Served as fresh before this instant; `null` = until invalidated. */
  readonly freshUntil: number | null;
  /** Served at all (as stale, inside the grace window) before this instant; `null` = no end. */
  readonly livesUntil: number | null;
  /** Tag -> the tag's version token when the value was fetched. Any change means invalidated. */
  readonly tags?: Readonly<Record<string, string>>;
}

export type Freshness = 'fresh' | 'stale' | 'expired';

export function freshnessAt(envelope: Envelope, now: number): Freshness {
  if (envelope.freshUntil === null || now < envelope.freshUntil) return 'fresh';
  if (envelope.livesUntil === null || now < envelope.livesUntil) return 'stale';
  return 'expired';
}

/**
 * True when `candidate` has the shape of an envelope this version can read, with a lifetime we
 * could have written: both ends `null` (until invalidated), or numbers with the fresh window
 * ending no later than the entry's life. Anything else (say a foreign writer's `livesUntil: null`
 * after a finite `freshUntil`, which would be served as stale forever) is a corrupt entry.
 */
export function isEnvelope(candidate: unknown): candidate is Envelope {
  if (typeof candidate !== 'object' || candidate === null) return false;
  const entry = candidate as Record<string, unknown>;
  if (entry.v !== ENVELOPE_VERSION || !('value' in entry) || entry.value === undefined) return false;
  if (!isInstant(entry.createdAt)) return false;
  const { freshUntil, livesUntil } = entry;
  const lifetime =
    (freshUntil === null && livesUntil === null) ||
    (isInstant(freshUntil) && isInstant(livesUntil) && freshUntil <= livesUntil);
  return lifetime && (entry.tags === undefined || isTagSnapshot(entry.tags));
}

function isInstant(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Parses envelope text another program may have written. `__proto__` keys are dropped from the
 * value (a prototype-pollution gadget on a later merge) but kept in the tag record, rebuilt on a
 * null prototype: a tag may be named `__proto__`, and an entry that lost it could never be
 * invalidated by it. Only when the text contains `__proto__` at all: the scan is cheap, the walk not.
 */
export function parseEnvelopeText(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  if (!text.includes('__proto__')) return parsed;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return dropProtoKeys(parsed);
  const record = parsed as Record<string, unknown>;
  Reflect.deleteProperty(record, '__proto__');
  for (const field of Object.keys(record)) {
    record[field] = field === 'tags' ? tagRecordOf(record[field]) : dropProtoKeys(record[field]);
  }
  return record;
}

function tagRecordOf(tags: unknown): unknown {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return tags;
  const record: Record<string, unknown> = Object.create(null);
  for (const [tag, token] of Object.entries(tags)) record[tag] = token;
  return record;
}

function isTagSnapshot(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const token of Object.values(value)) if (typeof token !== 'string') return false;
  return true;
}
