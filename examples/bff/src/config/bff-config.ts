import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadCacheEnv } from '@org/cache-core';
import { z } from 'zod';

/** How the service is wired, read once at start-up from the environment. */
export interface BffConfig {
  port: number;
  host: string;
  /** Every cache key starts with it: give each service its own on a shared Redis. */
  cachePrefix: string;
  redisUrl: string | undefined;
  /** `CACHE_TIER=tiered` (with REDIS_URL): a memory L1 in front of Redis, kept coherent by a bus. */
  tier: 'single' | 'tiered';
  safetyTtlMs: number;
  cdc: {
    /** Where change events come from: the Redis stream by default when REDIS_URL is set. */
    source: 'in-process' | 'redis-stream';
    stream: string;
    /** One consumer group per service: every event is applied once for the whole service. */
    group: string;
    /** This instance's name in the group; stable across restarts in production (a pod name). */
    consumer: string;
  };
  upstream: {
    salesforceLatencyMs: number;
    whmcsLatencyMs: number;
    /** Share of WHMCS calls that fail (0..1). */
    whmcsFailureRate: number;
    /** Share of WHMCS calls that take five times as long (0..1). */
    whmcsSlowRate: number;
  };
  /** Largest accepted request body, bytes. */
  maxBodyBytes: number;
  /** Where the dashboard's static files are. */
  publicDir: string;
}

const rate = z.coerce.number().min(0).max(1);
const milliseconds = z.coerce.number().int().min(0).max(60_000);
const name = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'letters, digits, _ . : - only');

const bffEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  CACHE_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,50}$/, 'letters, digits, _ and - only')
    .default('bff'),
  CACHE_TIER: z.enum(['single', 'tiered']).default('single'),
  CDC_SOURCE: z.enum(['in-process', 'redis-stream']).optional(),
  CDC_STREAM: name.default('bff:cdc'),
  CDC_GROUP: name.default('bff'),
  CDC_CONSUMER: name.optional(),
  SALESFORCE_LATENCY_MS: milliseconds.default(150),
  WHMCS_LATENCY_MS: milliseconds.default(80),
  WHMCS_FAILURE_RATE: rate.default(0.05),
  WHMCS_SLOW_RATE: rate.default(0.05),
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(10_485_760).default(65_536),
  PUBLIC_DIR: z.string().trim().min(1).optional(),
});

// src/config/ (dist/config/ once built) -> examples/bff/public/.
const defaultPublicDir = fileURLToPath(new URL('../../public/', import.meta.url));

/**
 * Reads and validates the environment; a bad value throws an error naming the variable.
 * REDIS_URL and SERVICES_CACHE_SAFETY_TTL_SECONDS go through the SDK's own loader.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): BffConfig {
  const cacheEnv = loadCacheEnv(env);
  const defined = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = bffEnvSchema.safeParse(defined);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid environment: ${problems.join('; ')}`);
  }
  const vars = parsed.data;
  if (vars.CACHE_TIER === 'tiered' && cacheEnv.redisUrl === undefined)
    throw new Error('invalid environment: CACHE_TIER=tiered needs REDIS_URL (the shared tier)');
  if (vars.CDC_SOURCE === 'redis-stream' && cacheEnv.redisUrl === undefined)
    throw new Error('invalid environment: CDC_SOURCE=redis-stream needs REDIS_URL');
  return {
    port: vars.PORT,
    host: vars.HOST,
    cachePrefix: vars.CACHE_PREFIX,
    redisUrl: cacheEnv.redisUrl,
    tier: vars.CACHE_TIER,
    safetyTtlMs: cacheEnv.safetyTtlMs,
    cdc: {
      source: vars.CDC_SOURCE ?? (cacheEnv.redisUrl === undefined ? 'in-process' : 'redis-stream'),
      stream: vars.CDC_STREAM,
      group: vars.CDC_GROUP,
      consumer: vars.CDC_CONSUMER ?? `${hostname().replace(/[^A-Za-z0-9_.:-]/g, '-')}-${process.pid}`,
    },
    upstream: {
      salesforceLatencyMs: vars.SALESFORCE_LATENCY_MS,
      whmcsLatencyMs: vars.WHMCS_LATENCY_MS,
      whmcsFailureRate: vars.WHMCS_FAILURE_RATE,
      whmcsSlowRate: vars.WHMCS_SLOW_RATE,
    },
    maxBodyBytes: vars.MAX_BODY_BYTES,
    publicDir: vars.PUBLIC_DIR ?? defaultPublicDir,
  };
}
