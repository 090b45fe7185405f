import { type Codec, jsonCodec } from '@org/cache-core';
import { type Envelope, isEnvelope, parseEnvelopeText } from '@org/cache-core/adapter';

/**
 * How the tiered store keeps values in L2. Core hands the tiered store frozen envelope objects
 * (it is a structured store, for the L1 fast path); L2 keeps them encoded by the codec of the
 * cache using the store (`adoptCodec`), plain JSON text by default, as any serializing store.
 * Strings (tag tokens, values from keyv users) pass through untouched both ways.
 */
export function toL2(value: unknown, key: string, codec: Codec | undefined): unknown {
  if (typeof value === 'string') return value;
  if (codec !== undefined && codec !== jsonCodec && isEnvelope(value)) return codec.encode(value, key);
  return JSON.stringify(value);
}

// Only our envelopes are turned back into objects: `JSON.stringify` of an envelope always starts
// like this, while keyv's serialized data starts with `{"value":` and tag tokens are not JSON.
const ENVELOPE_TEXT = '{"v":';

/**
 * An L2 value as L1 keeps it: an envelope decoded and frozen, or the raw string when it is not
 * one (a tag token), or not one this codec can read: core then decodes it again, fails, and
 * counts it as a corrupt entry.
 */
export function fromL2(raw: unknown, key: string, codec: Codec | undefined): unknown {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw !== 'string') return raw;
  if (codec !== undefined && codec !== jsonCodec) {
    try {
      const decoded = codec.decode(raw, key);
      if (isEnvelope(decoded)) return deepFreeze(decoded as Envelope);
    } catch {
      // not ours (a tag token) or unreadable: left to core, which counts the unreadable ones
    }
    return raw;
  }
  if (!raw.startsWith(ENVELOPE_TEXT)) return raw;
  try {
    // Frozen like everything in L1: every reader shares this object, none may change it.
    return deepFreeze(parseEnvelopeText(raw));
  } catch {
    return raw; // core decodes it again and counts it as a corrupt entry
  }
}

/**
 * How long an L2 value may live in L1: no longer than L2 keeps it (its PTTL when the store can
 * tell, else the envelope's own end of life) and never longer than the cap.
 */
export function l1TtlFor(value: unknown, l2TtlMs: number | undefined, capMs: number): number {
  if (l2TtlMs !== undefined) return Math.min(l2TtlMs, capMs);
  const livesUntil = (value as { livesUntil?: unknown } | null)?.livesUntil;
  if (typeof livesUntil === 'number') return Math.min(livesUntil - Date.now(), capMs);
  return capMs;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
