import type { JsonValue } from './json-value.js';

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

/** True when `candidate` has the shape of an envelope this version can read. */
export function isEnvelope(candidate: unknown): candidate is Envelope {
  if (typeof candidate !== 'object' || candidate === null) return false;
  const entry = candidate as Record<string, unknown>;
  if (entry.v !== ENVELOPE_VERSION || !('value' in entry) || entry.value === undefined) return false;
  if (typeof entry.createdAt !== 'number') return false;
  if (!isInstantOrNull(entry.freshUntil) || !isInstantOrNull(entry.livesUntil)) return false;
  return entry.tags === undefined || isTagSnapshot(entry.tags);
}

function isInstantOrNull(value: unknown): boolean {
  return value === null || (typeof value === 'number' && Number.isFinite(value));
}

function isTagSnapshot(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  for (const token of Object.values(value)) if (typeof token !== 'string') return false;
  return true;
}
