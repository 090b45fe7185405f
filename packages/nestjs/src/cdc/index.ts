export { CacheCdcModule, getInvalidatorToken, InjectInvalidator } from './cache-cdc-module.js';
export type { CacheCdcModuleAsyncOptions, CacheCdcOptions } from './cdc-options.js';
