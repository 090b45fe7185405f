import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { CacheError } from '@org/cache-core';
import { findCache } from '../cache-lookup.js';
import { DEFAULT_CACHE_NAME } from '../tokens.js';

export interface CacheHealthOptions {
  /** Which cache (a `forRoot` name). Default `'default'`. */
  cache?: string;
}

/**
 * `cache.health()` as a `@nestjs/terminus` indicator, on its `HealthIndicatorService` API:
 * `down` (store unreachable, circuit open, a CDC source down) makes `/health` answer 503;
 * `degraded` (slow store, a lagging subscriber) stays up, with the details. The cache's own
 * status is reported as `cacheStatus`: terminus reserves `status`.
 *
 * `@nestjs/terminus` is an optional peer: it is loaded on the first check, not when this package is.
 *
 * @example
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.cacheHealth.isHealthy('cache')]); }
 */
@Injectable()
export class CacheHealthIndicator {
  #indicators: Promise<HealthIndicatorService> | undefined;

  constructor(@Inject(ModuleRef) private readonly moduleRef: ModuleRef) {}

  async isHealthy<const Key extends string = 'cache'>(
    key?: Key,
    options: CacheHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const cache = findCache(
      this.moduleRef,
      undefined,
      options.cache ?? DEFAULT_CACHE_NAME,
      'CacheHealthIndicator',
    );
    const session = (await this.#service()).check((key ?? 'cache') as Key);
    const health = await cache.health();
    const details = {
      cacheStatus: health.status,
      timestamp: health.timestamp,
      store: health.store,
      inFlight: health.inFlight,
      checks: health.checks,
    };
    if (health.status === 'down') return session.down(details);
    if (health.status === 'degraded' && typeof session.degraded === 'function')
      return session.degraded(details);
    return session.up(details);
  }

  #service(): Promise<HealthIndicatorService> {
    this.#indicators ??= import('@nestjs/terminus').then(
      (terminus) => {
        try {
          return this.moduleRef.get(terminus.HealthIndicatorService, { strict: false });
        } catch {
          // The app did not import TerminusModule: a service of our own composes the same results.
          return new terminus.HealthIndicatorService();
        }
      },
      (error: unknown) => {
        this.#indicators = undefined;
        throw new CacheError('E_UNSUPPORTED', 'CacheHealthIndicator needs @nestjs/terminus: install it', {
          cause: error,
        });
      },
    );
    return this.#indicators;
  }
}
