import { z } from 'zod';
import type { Codec } from '../codec/json.js';
import { jsonCodec } from '../codec/json.js';
import { CacheError } from '../errors.js';
import { DEFAULT_MAX_KEY_BYTES } from '../keys/keys.js';
import type { StoreInput } from '../store/store.js';
import { type Clock, coarseClock } from './clock.js';
import { type Duration, parseDuration, parseTimeout } from './duration.js';
import {
  DEFAULT_FRESHNESS,
  type FreshnessOptions,
  type FreshnessSettings,
  resolveFreshness,
} from './freshness.js';
import { isStrategy, type Strategy, ttl } from './strategies.js';

export interface BreakerSettings {
  /** Consecutive store failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long the circuit stays open before a probe. Default 1 s. */
  cooldown?: Duration;
}

/**
 * `grace`, `fetchTimeout` (default 30 s), `softTimeout` and `eagerRefresh` (see `FreshnessOptions`)
 * are the defaults of plain calls and of domains that do not set their own.
 */
export interface CacheOptions extends FreshnessOptions {
  /** Our stores, any keyv `KeyvStoreAdapter`, a `Keyv` instance or a `Map`. */
  store: StoreInput;
  /** Every key this cache touches starts with `${prefix}:`; pattern operations never leave it. Default `cache`. */
  prefix?: string;
  /**
   * What metrics, traces and events call this cache (`cache.name`), so two caches in one process
   * are told apart. Default: the prefix.
   */
  name?: string;
  /** Default strategy for plain calls and for domains without one. Default `ttl('5m')`. */
  strategy?: Strategy;
  /**
   * Logical expiry uses it. Default `coarseClock`: exact `Date.now()` readings, shared by many
   * reads only while reads are dense (hundreds a millisecond: see `coarseNow`);
   * `{ now: Date.now }` for exact readings always.
   */
  clock?: Clock;
  /** Deadline for each store operation. Default 250 ms. */
  operationTimeout?: Duration;
  breaker?: BreakerSettings;
  /** Physical lifetime of tag version tokens. Default 7 d; 0 = never expire. */
  tagTtl?: Duration;
  /** Longest key accepted, in bytes of UTF-8. Default 2048. */
  maxKeyBytes?: number;
  /** How entries are encoded in serializing stores. Default: plain JSON text. */
  codec?: Codec;
  /**
   * Cross-process coalescing on stores with leases (Redis): one fetch per key per wave across
   * processes. `ttl` bounds how long a crashed fetcher can hold others up (default 10 s); `wait`
   * is how long a process waits for another's fetch before fetching itself (default: the ttl).
   * `false` turns it off.
   */
  lease?: false | { ttl?: Duration; wait?: Duration };
}

export interface ResolvedOptions {
  store: StoreInput;
  prefix: string;
  name: string;
  strategy: Strategy;
  clock: Clock;
  /** Grace, fetch and soft timeouts, eager refresh: what plain calls and domains inherit. */
  freshness: FreshnessSettings;
  operationTimeoutMs: number;
  breaker: { failureThreshold: number; cooldownMs: number };
  tagTtlMs: number | undefined;
  maxKeyBytes: number;
  codec: Codec;
  lease: { ttlMs: number; waitMs: number } | undefined;
}

const durationSchema = z.union([z.number(), z.string()]).optional();

const optionsSchema = z.object({
  store: z.custom<StoreInput>((value) => typeof value === 'object' && value !== null, 'store is required'),
  prefix: z.string().optional(),
  name: z.string().min(1).max(128).optional(),
  strategy: z
    .custom<Strategy>(isStrategy, 'strategy must come from ttl(), eventDriven() or hybrid()')
    .optional(),
  clock: z
    .custom<Clock>(
      (value) => typeof (value as Clock | undefined)?.now === 'function',
      'clock must have now()',
    )
    .optional(),
  grace: durationSchema,
  operationTimeout: durationSchema,
  fetchTimeout: durationSchema,
  softTimeout: durationSchema,
  eagerRefresh: z.union([z.number(), z.literal(false)]).optional(),
  breaker: z
    .object({ failureThreshold: z.number().int().min(1).optional(), cooldown: durationSchema })
    .strict()
    .optional(),
  tagTtl: durationSchema,
  maxKeyBytes: z.number().int().min(16).max(65_536).optional(),
  lease: z
    .union([z.literal(false), z.object({ ttl: durationSchema, wait: durationSchema }).strict()])
    .optional(),
  codec: z
    .custom<Codec>(
      (value) =>
        typeof (value as Codec)?.encode === 'function' && typeof (value as Codec)?.decode === 'function',
      'codec must have encode() and decode()',
    )
    .optional(),
});

/** Validates createCache options; throws E_INVALID_OPTION naming the offending option. */
export function resolveOptions(input: CacheOptions): ResolvedOptions {
  const parsed = optionsSchema.strict().safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`,
    );
    throw new CacheError('E_INVALID_OPTION', `invalid cache options: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  const options = parsed.data;
  const prefix = options.prefix ?? 'cache';
  // A plain charset keeps the prefix literal everywhere it appears: in globs (no escaping), in
  // Redis Cluster hash tags (no braces) and between segments (no ':' - `bff:tenant` nested in
  // `bff` would make one cache's `tenant:secret` another's `secret`).
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(prefix)) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `prefix must be 1-128 characters of A-Z a-z 0-9 _ . - (got ${JSON.stringify(prefix)})`,
    );
  }
  const operationTimeoutMs = parseTimeout((options.operationTimeout ?? 250) as Duration, 'operationTimeout');
  if (operationTimeoutMs <= 0)
    throw new CacheError('E_INVALID_OPTION', 'operationTimeout must be greater than 0');
  const tagTtlMs = parseDuration((options.tagTtl ?? '7d') as Duration, 'tagTtl');
  return {
    store: options.store,
    prefix,
    name: options.name ?? prefix,
    strategy: options.strategy ?? ttl('5m'),
    clock: options.clock ?? coarseClock,
    freshness: resolveFreshness(DEFAULT_FRESHNESS, options as FreshnessOptions, 'cache'),
    operationTimeoutMs,
    breaker: {
      failureThreshold: options.breaker?.failureThreshold ?? 5,
      cooldownMs: parseTimeout((options.breaker?.cooldown ?? '1s') as Duration, 'breaker.cooldown'),
    },
    tagTtlMs: tagTtlMs === 0 ? undefined : tagTtlMs,
    maxKeyBytes: options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES,
    codec: options.codec ?? jsonCodec,
    lease: resolveLease(options.lease),
  };
}

function resolveLease(lease: false | { ttl?: unknown; wait?: unknown } | undefined) {
  if (lease === false) return undefined;
  const ttlMs = parseTimeout((lease?.ttl ?? '10s') as Duration, 'lease.ttl');
  if (ttlMs <= 0) throw new CacheError('E_INVALID_OPTION', 'lease.ttl must be greater than 0');
  const waitMs = lease?.wait === undefined ? ttlMs : parseTimeout(lease.wait as Duration, 'lease.wait');
  return { ttlMs, waitMs };
}
