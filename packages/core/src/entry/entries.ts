import type { ZodType } from 'zod';
import { ENVELOPE_VERSION, type Envelope, freshnessAt, isEnvelope } from '../codec/envelope.js';
import type { Codec } from '../codec/json.js';
import { isPlainJson, type JsonValue, toJsonValue } from '../codec/json-value.js';
import type { Clock } from '../config/clock.js';
import { jittered } from '../config/freshness.js';
import type { Scope } from '../config/scope.js';
import { CacheError, isCacheError } from '../errors.js';
import type { GuardedStore } from '../store/guarded-store.js';
import { syncUnknown } from '../store/store.js';
import { checkSnapshot, type TagToken, type TagVersions } from './tags.js';

/** The result of reading one entry. Hot-path outcomes without a value are shared constants. */
export type ReadOutcome =
  | FreshOutcome
  | StaleOutcome
  | { readonly kind: 'miss' }
  | { readonly kind: 'corrupt' }
  | { readonly kind: 'error'; readonly error: CacheError };

/** A fresh entry, with its fresh window (by its writer's clock): where eager refresh starts. */
export interface FreshOutcome {
  readonly kind: 'fresh';
  readonly value: unknown;
  readonly createdAt: number;
  readonly freshUntil: number | null;
}

/** An entry past its freshness, inside its grace window (until `livesUntil`). */
export interface StaleOutcome {
  readonly kind: 'stale';
  readonly value: unknown;
  readonly createdAt: number;
  readonly livesUntil: number | null;
}

/**
 * An envelope this module built for a store that keeps objects by reference: frozen at birth, so
 * it cannot have changed since, and reading it back skips the shape check that foreign data
 * needs. The private field is the mark, which nothing outside this class can put on an object;
 * a WeakSet of them did the same at ~280 ns per write (the add, and the GC's ephemeron work).
 * Its own properties, in this order, are a plain envelope's: it serializes to the same text.
 */
class OwnEnvelope implements Envelope {
  readonly #own = true;
  // Declared, not class fields: assigned below in a plain envelope's order, `tags` only if any,
  // then frozen.
  declare v: typeof ENVELOPE_VERSION;
  declare value: JsonValue;
  declare createdAt: number;
  declare freshUntil: number | null;
  declare livesUntil: number | null;
  declare tags?: Readonly<Record<string, string>>;

  constructor(
    value: JsonValue,
    createdAt: number,
    freshUntil: number | null,
    livesUntil: number | null,
    tags: Readonly<Record<string, string>> | undefined,
  ) {
    this.v = ENVELOPE_VERSION;
    this.value = value;
    this.createdAt = createdAt;
    this.freshUntil = freshUntil;
    this.livesUntil = livesUntil;
    if (tags !== undefined) this.tags = tags;
    Object.freeze(this);
  }

  static is(raw: unknown): raw is OwnEnvelope {
    return typeof raw === 'object' && raw !== null && #own in raw;
  }
}

export const MISS: ReadOutcome = Object.freeze({ kind: 'miss' });
const CORRUPT: ReadOutcome = Object.freeze({ kind: 'corrupt' });

/** How long an entry lives: `ttlMs === null` = fresh until invalidated. */
export interface EntryLifetime {
  readonly ttlMs: number | null;
  readonly graceMs: number;
  /** Spread of the fresh window, in [0, 1): see `jittered`. */
  readonly jitter: number;
}

/** A value checked and copied for storage, and the view of it callers get back. */
export interface PreparedValue {
  readonly stored: JsonValue;
  readonly returned: unknown;
}

/**
 * Reads and writes envelopes: decoding, validation, logical expiry by the injected clock, tag
 * checks and schemas. Knows nothing of coalescing or metrics beyond counting what it sees.
 */
export class Entries {
  constructor(
    private readonly store: GuardedStore,
    private readonly codec: Codec,
    private readonly tags: TagVersions,
    private readonly clock: Clock,
  ) {}

  get structured(): boolean {
    return this.store.driver.structuredValues;
  }

  /**
   * Synchronous read for stores that have one: the in-memory hit path, with no promise, no JSON
   * and no clone. `undefined` when the answer needs I/O.
   */
  readSync(key: string, scope: Scope): ReadOutcome | undefined {
    const getSync = this.store.driver.getSync;
    if (getSync === undefined) return undefined;
    const raw = getSync(key);
    if (raw === syncUnknown) return undefined;
    const envelope = this.decode(raw, key);
    if (envelope === undefined) return MISS;
    if (envelope === null) return CORRUPT;
    if (envelope.tags !== undefined) {
      const tags = Object.keys(envelope.tags);
      const tokens = this.tags.currentSync(tags);
      if (tokens === undefined) return undefined;
      const verdict = checkSnapshot(envelope.tags, tags, tokens);
      if (verdict !== 'current') return verdict === 'stale' ? MISS : CORRUPT;
    }
    return this.evaluate(envelope, scope);
  }

  /** The synchronous answer when the store has one, else the store's. */
  read(key: string, scope: Scope): Promise<ReadOutcome> {
    const fast = this.readSync(key, scope);
    return fast !== undefined ? Promise.resolve(fast) : this.readFromStore(key, scope);
  }

  /**
   * The asynchronous read alone, for callers whose `readSync` just came back empty-handed (an
   * L1 miss is not looked up twice). One `then` on the store's promise rather than async layers:
   * on a Redis read under load, each costs about 40 ns of a ~5 us operation.
   */
  readFromStore(key: string, scope: Scope): Promise<ReadOutcome> {
    return this.store.get(key).then(
      (raw) => this.interpret(raw, key, scope),
      (error: unknown): ReadOutcome => ({ kind: 'error', error: error as CacheError }),
    );
  }

  async readMany(keys: string[], scope: Scope): Promise<ReadOutcome[]> {
    let raws: unknown[];
    try {
      raws = await this.store.getMany(keys);
    } catch (error) {
      const outcome: ReadOutcome = { kind: 'error', error: error as CacheError };
      return keys.map(() => outcome);
    }
    const envelopes = keys.map((key, index) => this.decode(raws[index], key));
    // One lookup for the tags of every entry read, not one per tagged entry.
    const tags = new Set<string>();
    for (const envelope of envelopes) for (const tag of Object.keys(envelope?.tags ?? {})) tags.add(tag);
    let tokens = new Map<string, TagToken>();
    let tagError: CacheError | undefined;
    if (tags.size > 0) {
      try {
        const list = [...tags];
        const current = await this.tags.current(list);
        tokens = new Map(list.map((tag, index) => [tag, current[index]]));
      } catch (error) {
        tagError = error as CacheError;
      }
    }
    return envelopes.map((envelope) => {
      if (envelope === undefined) return MISS;
      if (envelope === null) return CORRUPT;
      const snapshot = envelope.tags ?? {};
      const entryTags = Object.keys(snapshot);
      if (entryTags.length > 0) {
        if (tagError !== undefined) return { kind: 'error', error: tagError };
        const verdict = checkSnapshot(
          snapshot,
          entryTags,
          entryTags.map((tag) => tokens.get(tag)),
        );
        if (verdict !== 'current') return verdict === 'stale' ? MISS : CORRUPT;
      }
      return this.evaluate(envelope, scope);
    });
  }

  /** From what the store returned to an outcome, checking tags with one more round trip if needed. */
  private interpret(raw: unknown, key: string, scope: Scope): ReadOutcome | Promise<ReadOutcome> {
    const envelope = this.decode(raw, key);
    if (envelope === undefined) return MISS;
    if (envelope === null) return CORRUPT;
    const snapshot = envelope.tags;
    if (snapshot !== undefined) {
      const tags = Object.keys(snapshot);
      if (tags.length > 0) {
        return this.tags.current(tags).then(
          (tokens) => {
            const verdict = checkSnapshot(snapshot, tags, tokens);
            if (verdict === 'current') return this.evaluate(envelope, scope);
            return verdict === 'stale' ? MISS : CORRUPT;
          },
          (error: unknown): ReadOutcome => ({ kind: 'error', error: error as CacheError }),
        );
      }
    }
    return this.evaluate(envelope, scope);
  }

  /** `undefined` = nothing stored, `null` = something unreadable. */
  private decode(raw: unknown, key: string): Envelope | null | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (OwnEnvelope.is(raw)) return raw;
    let candidate: unknown = raw;
    if (typeof raw === 'string') {
      try {
        candidate = this.codec.decode(raw, key);
      } catch {
        return null;
      }
    }
    return isEnvelope(candidate) ? candidate : null;
  }

  private evaluate(envelope: Envelope, scope: Scope): ReadOutcome {
    const freshness = freshnessAt(envelope, this.clock.now());
    if (freshness === 'expired') return MISS;
    let value: unknown = envelope.value;
    if (scope.schema !== undefined) {
      const parsed = checkSchema(scope.schema, value);
      if (!parsed.success) return CORRUPT;
      value = parsed.data;
    }
    return freshness === 'fresh'
      ? { kind: 'fresh', value, createdAt: envelope.createdAt, freshUntil: envelope.freshUntil }
      : { kind: 'stale', value, createdAt: envelope.createdAt, livesUntil: envelope.livesUntil };
  }

  /**
   * Checks a value against the scope's schema (stripping unknown fields) and copies it to plain
   * JSON, frozen when the store keeps objects by reference. Throws E_INVALID_VALUE.
   */
  prepare(value: unknown, scope: Scope, key: string): PreparedValue {
    if (value === undefined) {
      throw new CacheError('E_INVALID_VALUE', 'cannot cache undefined: delete the key instead', { key });
    }
    let input: unknown = value;
    if (scope.schema !== undefined) {
      const parsed = checkSchema(scope.schema, value);
      if (!parsed.success) {
        throw new CacheError(
          'E_INVALID_VALUE',
          `value does not match the bucket schema: ${parsed.error.message}`,
          {
            key,
            cause: parsed.error,
          },
        );
      }
      input = parsed.data;
    }
    // Frozen even for serializing stores: the copy is also what every caller waiting on a fetch
    // receives, and one caller must not be able to change another's value.
    const stored = toJsonValue(input, true, key);
    // With a schema, callers get what a later read would give (e.g. dates coerced back).
    const returned = scope.schema === undefined ? stored : scope.schema.parse(stored);
    return { stored, returned };
  }

  /**
   * `prepare`, or the caller's value itself when the write encodes it before returning to the
   * caller (`encodedAtOnce`: no tags to read first) on a store that keeps no reference to it
   * (`serializesWrites`: a serializing store, or a tiered store with tracking) without a schema:
   * nothing can change the value between the call and the text, so a copy would only cost time
   * (the copy and freeze were ~1.3 us of a ~40 us Redis set). Anything but plain JSON is copied,
   * so what is cached never differs from the copy's text.
   */
  prepareForWrite(value: unknown, scope: Scope, key: string, encodedAtOnce: boolean): PreparedValue {
    if (
      encodedAtOnce &&
      this.store.driver.serializesWrites &&
      scope.schema === undefined &&
      isPlainJson(value)
    ) {
      return { stored: value as JsonValue, returned: value };
    }
    return this.prepare(value, scope, key);
  }

  /**
   * Writes an envelope. Encodes before it returns (callers rely on that: see prepareForWrite);
   * a value the codec refuses throws here, synchronously.
   */
  write(
    key: string,
    value: JsonValue,
    lifetime: EntryLifetime,
    tags: Readonly<Record<string, string>> | undefined,
  ): Promise<void> {
    const { stored, physicalTtlMs } = this.encode(key, value, lifetime, tags);
    return this.store.set(key, stored, physicalTtlMs);
  }

  encode(
    key: string,
    value: JsonValue,
    lifetime: EntryLifetime,
    tags: Readonly<Record<string, string>> | undefined,
  ): { stored: unknown; physicalTtlMs: number | undefined } {
    const now = this.clock.now();
    const { ttlMs, graceMs } = lifetime;
    // Jitter spreads the fresh window only: the grace after it, and so the eager-refresh point
    // (a fraction of the window), move with it.
    const freshUntil = ttlMs === null ? null : now + jittered(ttlMs, lifetime.jitter);
    const livesUntil = freshUntil === null ? null : freshUntil + graceMs;
    const tagged =
      tags === undefined || Object.keys(tags).length === 0 ? undefined : Object.freeze({ ...tags });
    // Stores take whole, positive milliseconds (a fractional or zero PX is an error in Redis).
    const physicalTtlMs = livesUntil === null ? undefined : Math.max(1, Math.ceil(livesUntil - now));
    // A store that keeps no reference to what it is given never hands the object back: a plain
    // one will do (and is what a codec expects).
    if (this.structured && !this.store.driver.serializesWrites) {
      return { stored: new OwnEnvelope(value, now, freshUntil, livesUntil, tagged), physicalTtlMs };
    }
    const envelope: Envelope =
      tagged === undefined
        ? { v: ENVELOPE_VERSION, value, createdAt: now, freshUntil, livesUntil }
        : { v: ENVELOPE_VERSION, value, createdAt: now, freshUntil, livesUntil, tags: tagged };
    if (this.structured) return { stored: Object.freeze(envelope), physicalTtlMs };
    try {
      return { stored: this.codec.encode(envelope, key), physicalTtlMs };
    } catch (error) {
      if (isCacheError(error)) throw error;
      throw new CacheError('E_INVALID_VALUE', `codec ${this.codec.name} could not encode the entry`, {
        key,
        cause: error,
      });
    }
  }
}

/**
 * `safeParse`, which reports a mismatch but still throws on a value it cannot walk (a RangeError
 * for one nested beyond the stack): that is a mismatch too, never an exception for the caller.
 */
function checkSchema(
  schema: ZodType,
  value: unknown,
): { success: true; data: unknown } | { success: false; error: Error } {
  try {
    return schema.safeParse(value);
  } catch (error) {
    return { success: false, error: error instanceof Error ? error : new Error(String(error)) };
  }
}
