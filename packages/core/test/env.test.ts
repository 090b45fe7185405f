import { DEFAULT_SAFETY_TTL_MS, eventDriven, isCacheError, loadCacheEnv } from '@org/cache-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { thrownBy } from './support/helpers.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('loadCacheEnv', () => {
  it('reads valid values', () => {
    expect(
      loadCacheEnv({ REDIS_URL: 'redis://cache.internal:6379/0', SERVICES_CACHE_SAFETY_TTL_SECONDS: '3600' }),
    ).toEqual({ redisUrl: 'redis://cache.internal:6379/0', safetyTtlMs: 3_600_000 });
    expect(loadCacheEnv({ REDIS_URL: 'rediss://user:pw@cache.example.com:6380' }).redisUrl).toBe(
      'rediss://user:pw@cache.example.com:6380',
    );
  });

  it('defaults when the variables are missing or empty', () => {
    expect(loadCacheEnv({})).toEqual({ redisUrl: undefined, safetyTtlMs: DEFAULT_SAFETY_TTL_MS });
    expect(loadCacheEnv({ REDIS_URL: '', SERVICES_CACHE_SAFETY_TTL_SECONDS: '' })).toEqual({
      redisUrl: undefined,
      safetyTtlMs: 12 * 3_600_000,
    });
  });

  it("reads '0' as no safety TTL, which eventDriven() turns into never-expiring", () => {
    const env = loadCacheEnv({ SERVICES_CACHE_SAFETY_TTL_SECONDS: '0' });
    expect(env.safetyTtlMs).toBe(0);
    expect(eventDriven({ safetyTtl: env.safetyTtlMs }).ttlMs).toBeNull();
  });

  it('trims surrounding whitespace', () => {
    expect(loadCacheEnv({ SERVICES_CACHE_SAFETY_TTL_SECONDS: ' 60 ' }).safetyTtlMs).toBe(60_000);
    expect(loadCacheEnv({ REDIS_URL: ' redis://localhost:6379 ' }).redisUrl).toBe('redis://localhost:6379');
  });

  it('reads process.env by default', () => {
    vi.stubEnv('REDIS_URL', 'redis://from-process-env:6379');
    vi.stubEnv('SERVICES_CACHE_SAFETY_TTL_SECONDS', '120');
    expect(loadCacheEnv()).toEqual({ redisUrl: 'redis://from-process-env:6379', safetyTtlMs: 120_000 });
  });

  it.each([
    'http://localhost:6379',
    'localhost:6379',
    'redis:/missing-slash',
    'not a url',
    'redis://exa mple:6379',
  ])('refuses REDIS_URL=%j with E_INVALID_ENV naming the variable', (value) => {
    const error = thrownBy(() => loadCacheEnv({ REDIS_URL: value }));
    expect(isCacheError(error, 'E_INVALID_ENV')).toBe(true);
    expect((error as Error).message).toContain('REDIS_URL');
    expect((error as Error).message).not.toContain('SERVICES_CACHE_SAFETY_TTL_SECONDS');
  });

  it.each(['-5', '1.5', 'abc', '12h', '1e3', '0x10', 'NaN'])(
    'refuses SERVICES_CACHE_SAFETY_TTL_SECONDS=%j with E_INVALID_ENV naming the variable',
    (value) => {
      const error = thrownBy(() => loadCacheEnv({ SERVICES_CACHE_SAFETY_TTL_SECONDS: value }));
      expect(isCacheError(error, 'E_INVALID_ENV')).toBe(true);
      expect((error as Error).message).toContain('SERVICES_CACHE_SAFETY_TTL_SECONDS');
      expect((error as Error).message).not.toContain('REDIS_URL');
    },
  );

  it('names every bad variable at once', () => {
    const error = thrownBy(() =>
      loadCacheEnv({ REDIS_URL: 'http://x', SERVICES_CACHE_SAFETY_TTL_SECONDS: 'soon' }),
    );
    expect(isCacheError(error, 'E_INVALID_ENV')).toBe(true);
    expect((error as Error).message).toContain('REDIS_URL');
    expect((error as Error).message).toContain('SERVICES_CACHE_SAFETY_TTL_SECONDS');
  });

  it('ignores unrelated variables', () => {
    expect(loadCacheEnv({ PATH: '/bin', REDIS_HOST: 'nope' })).toEqual({
      redisUrl: undefined,
      safetyTtlMs: DEFAULT_SAFETY_TTL_MS,
    });
  });
});
