import { type DynamicModule, Inject, Logger, Module } from '@nestjs/common';
import { createInvalidator } from '@org/cache-cdc';
import { type Cache, CacheError, parseDuration } from '@org/cache-core';
import { DEFAULT_CACHE_NAME, getCacheToken } from '../tokens.js';
import type { CacheCdcModuleAsyncOptions, CacheCdcOptions } from './cdc-options.js';
import { CdcSubscription } from './cdc-subscription.js';

/** The injection token of the invalidator of a named cache. */
export function getInvalidatorToken(cacheName: string = DEFAULT_CACHE_NAME): string {
  return `@org/cache-nestjs:invalidator:${cacheName}`;
}

/** Injects the `Invalidator` of a named cache (to apply events by hand, or read its health). */
export function InjectInvalidator(cacheName?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getInvalidatorToken(cacheName));
}

function subscriptionToken(cacheName: string): string {
  return `@org/cache-nestjs:cdc-subscription:${cacheName}`;
}

/**
 * Change Data Capture for a cache: `createInvalidator(cache, rules)` created with the
 * application, its sources subscribed when the application has started and stopped before it
 * shuts down; the invalidator's health joins `cache.health()` (so the terminus indicator sees it).
 *
 * @example
 * CacheCdcModule.forRootAsync({
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({
 *     rules: { Order: { record: (id) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } } },
 *     sources: [redisStreamSource({ url: config.get('REDIS_URL'), stream: 'cdc', group: 'bff', consumer: hostname() })],
 *   }),
 * })
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with static factories.
export class CacheCdcModule {
  static forRootAsync(options: CacheCdcModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function')
      throw new CacheError('E_INVALID_OPTION', 'CacheCdcModule.forRootAsync() needs useFactory');
    const {
      cache: cacheName = DEFAULT_CACHE_NAME,
      isGlobal = true,
      imports = [],
      inject = [],
      useFactory,
    } = options;
    return {
      module: CacheCdcModule,
      global: isGlobal,
      imports,
      providers: [
        {
          provide: subscriptionToken(cacheName),
          useFactory: async (cache: Cache, ...args: unknown[]) =>
            createSubscription(cacheName, cache, await useFactory(...args)),
          inject: [getCacheToken(cacheName), ...inject],
        },
        {
          provide: getInvalidatorToken(cacheName),
          useFactory: (subscription: CdcSubscription) => subscription.invalidator,
          inject: [subscriptionToken(cacheName)],
        },
      ],
      exports: [getInvalidatorToken(cacheName)],
    };
  }
}

function createSubscription(cacheName: string, cache: Cache, options: CacheCdcOptions): CdcSubscription {
  if (typeof options !== 'object' || options === null)
    throw new CacheError('E_INVALID_OPTION', 'the CacheCdcModule factory must return { rules, sources? }');
  const sources = options.sources ?? [];
  if (!Array.isArray(sources))
    throw new CacheError(
      'E_INVALID_OPTION',
      'CacheCdcModule: sources must be an array of invalidation sources',
    );
  const logIntervalMs = parseDuration(options.logInterval ?? '10s', 'logInterval');
  const invalidator = createInvalidator(cache, options.rules, options.invalidator);
  const logger =
    options.logger === false ? undefined : (options.logger ?? new Logger(`CacheCdc:${cacheName}`));
  return new CdcSubscription(invalidator, sources, logger, logIntervalMs);
}
