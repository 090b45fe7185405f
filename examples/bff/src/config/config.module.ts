import { Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { type BffConfig, loadConfig } from './bff-config.js';

/** Where the validated settings live in the `ConfigService`: `config.get(BFF_CONFIG)`. */
export const BFF_CONFIG = 'bff';

/**
 * `@nestjs/config` with the environment validated once, at start-up, by the example's own
 * loader (zod, plus core's `loadCacheEnv` for REDIS_URL and the safety TTL). A bad value makes
 * `forRoot` reject with a message naming the variable, before any module is built. `overrides`
 * replace variables of the process environment (the in-process tests set PORT=0 and so on).
 */
export function bffConfigModule(overrides: Record<string, string> = {}) {
  return ConfigModule.forRoot({
    isGlobal: true,
    // Twelve-factor: the environment only, no .env file read behind the operator's back.
    ignoreEnvFile: true,
    validate: (variables) => ({ [BFF_CONFIG]: loadConfig({ ...stringsOf(variables), ...overrides }) }),
  });
}

/** The validated settings, as the modules' factories read them. */
export function bffConfigOf(config: ConfigService): BffConfig {
  const value = config.get<BffConfig>(BFF_CONFIG);
  if (value === undefined) throw new Error('the BFF configuration was not loaded (bffConfigModule)');
  return value;
}

function stringsOf(variables: Record<string, unknown>): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : undefined]),
  );
}

/** The injection token of the validated `BffConfig`: `@Inject(BFF_SETTINGS) config: BffConfig`. */
export const BFF_SETTINGS = Symbol('BffConfig');

/** Provides the validated `BffConfig` to every module, read once from the `ConfigService`. */
@Global()
@Module({
  providers: [{ provide: BFF_SETTINGS, useFactory: bffConfigOf, inject: [ConfigService] }],
  exports: [BFF_SETTINGS],
})
export class BffSettingsModule {}
