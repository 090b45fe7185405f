import type { FactoryProvider, LoggerService, ModuleMetadata } from '@nestjs/common';
import type { Cache, CacheOptions, Duration } from '@org/cache-core';

export interface CacheLoggingOptions {
  /**
   * Where store errors and circuit-breaker changes are reported. Default: Nest's `Logger` with
   * the context `Cache:<name>` (so `app.useLogger(...)`, nestjs-pino say, receives them);
   * `false` turns reporting off.
   */
  logger?: LoggerService | false;
  /** At most one line per kind of problem per interval; the others are counted in the next one. Default 10 s. */
  logInterval?: Duration;
}

/** `createCache` options, plus what the module needs. */
export interface CacheModuleOptions extends CacheOptions, CacheLoggingOptions {
  /** Several caches live side by side under different names. Default `'default'`. */
  name?: string;
  /**
   * Provide the cache (and its domains) to every module. Default `true`, as for other
   * `forRoot`/`forFeature` modules: `forFeature` and `@Cached` find the cache from anywhere.
   */
  isGlobal?: boolean;
}

/**
 * What a `forRootAsync` factory returns: options for a cache the module creates (and closes on
 * shutdown), or a `Cache` built elsewhere, which the module uses and leaves open.
 */
export type CacheFactoryResult = (CacheOptions & CacheLoggingOptions) | Cache;

export interface CacheModuleAsyncOptions {
  name?: string;
  isGlobal?: boolean;
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  // biome-ignore lint/suspicious/noExplicitAny: the factory's arguments are whatever `inject` lists, as in Nest's own FactoryProvider.
  useFactory: (...args: any[]) => CacheFactoryResult | Promise<CacheFactoryResult>;
}
