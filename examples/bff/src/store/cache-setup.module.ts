import { Global, Module } from '@nestjs/common';
import { eventDriven } from '@org/cache-core';
import { CacheModule } from '@org/cache-nestjs';
import type { BffConfig } from '../config/bff-config.js';
import { BFF_SETTINGS } from '../config/config.module.js';
import { type ChosenStore, chooseStore } from './choose-store.js';

/** The injection token of the store chosen at start-up (its kind and name for the banner and health). */
export const CHOSEN_STORE = Symbol('ChosenStore');

/** The store, chosen once from the configuration (memory, Redis, or tiered). */
@Global()
@Module({
  providers: [
    {
      provide: CHOSEN_STORE,
      useFactory: (config: BffConfig) => chooseStore(config),
      inject: [BFF_SETTINGS],
    },
  ],
  exports: [CHOSEN_STORE],
})
export class StoreModule {}

/**
 * The service's one cache (`'default'`), created by `@org/cache-nestjs` on the chosen store and
 * closed on shutdown (which disconnects the store). Its default strategy is the event-driven one
 * with the configured safety TTL: the Salesforce domains (orders, catalog) inherit it, since
 * change events drop their entries; the others name their own strategy.
 */
export const cacheModule = CacheModule.forRootAsync({
  inject: [CHOSEN_STORE, BFF_SETTINGS],
  useFactory: (chosen: ChosenStore, config: BffConfig) => ({
    store: chosen.store,
    prefix: config.cachePrefix,
    strategy: eventDriven({ safetyTtl: config.safetyTtlMs }),
  }),
});
