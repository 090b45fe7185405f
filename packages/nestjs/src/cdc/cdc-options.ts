import type { FactoryProvider, LoggerService, ModuleMetadata } from '@nestjs/common';
import type { InvalidationRules, InvalidationSource, InvalidatorOptions } from '@org/cache-cdc';
import type { Duration } from '@org/cache-core';

/** What a `CacheCdcModule.forRootAsync` factory returns. */
export interface CacheCdcOptions<R extends InvalidationRules = InvalidationRules> {
  /** Per entity, what a change drops (see `createInvalidator`). */
  rules: R;
  /** Subscribed when the application has started, stopped before it shuts down. */
  sources?: readonly InvalidationSource[];
  /** `createInvalidator`'s options (health check name, ignored fields, dedupe capacity, max lag). */
  invalidator?: InvalidatorOptions;
  /** Where failed and malformed events and source status changes are reported. Default: Nest's `Logger` (`CacheCdc:<cache>`); `false` = off. */
  logger?: LoggerService | false;
  /** At most one line per kind of problem per interval. Default 10 s. */
  logInterval?: Duration;
}

export interface CacheCdcModuleAsyncOptions {
  /** The cache (a `CacheModule.forRoot` name) the events invalidate. Default `'default'`. */
  cache?: string;
  /** Provide the invalidator to every module. Default `true`. */
  isGlobal?: boolean;
  imports?: ModuleMetadata['imports'];
  inject?: FactoryProvider['inject'];
  // biome-ignore lint/suspicious/noExplicitAny: the factory's arguments are whatever `inject` lists, as in Nest's own FactoryProvider.
  useFactory: (...args: any[]) => CacheCdcOptions | Promise<CacheCdcOptions>;
}
