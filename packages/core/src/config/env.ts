import { z } from 'zod';
import { CacheError } from '../errors.js';
import { DEFAULT_SAFETY_TTL_MS } from './strategies.js';

const cacheEnvSchema = z.object({
  REDIS_URL: z
    .string()
    .trim()
    .min(1)
    .refine((value) => /^rediss?:\/\//.test(value) && URL.canParse(value), {
      message: 'must be a redis:// or rediss:// URL',
    })
    .optional(),
  SERVICES_CACHE_SAFETY_TTL_SECONDS: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number of seconds (0 disables the safety TTL)')
    .transform(Number)
    .optional(),
});

export interface CacheEnv {
  /** `REDIS_URL`, when set. */
  redisUrl: string | undefined;
  /** `SERVICES_CACHE_SAFETY_TTL_SECONDS` in ms (default 12 h; 0 = no safety TTL). */
  safetyTtlMs: number;
}

/**
 * Reads the cache's environment variables, validated. A bad value throws E_INVALID_ENV naming
 * the variable, at start-up rather than at the first cache miss.
 *
 * @example const env = loadCacheEnv(); eventDriven({ safetyTtl: env.safetyTtlMs })
 */
export function loadCacheEnv(env: Record<string, string | undefined> = process.env): CacheEnv {
  const relevant = {
    REDIS_URL: env.REDIS_URL === '' ? undefined : env.REDIS_URL,
    SERVICES_CACHE_SAFETY_TTL_SECONDS:
      env.SERVICES_CACHE_SAFETY_TTL_SECONDS === '' ? undefined : env.SERVICES_CACHE_SAFETY_TTL_SECONDS,
  };
  const parsed = cacheEnvSchema.safeParse(relevant);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new CacheError('E_INVALID_ENV', `invalid cache environment: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  const seconds = parsed.data.SERVICES_CACHE_SAFETY_TTL_SECONDS;
  return {
    redisUrl: parsed.data.REDIS_URL,
    safetyTtlMs: seconds === undefined ? DEFAULT_SAFETY_TTL_MS : seconds * 1000,
  };
}
