export type { MemoryStore, MemoryStoreKeyvOptions, MemoryStoreStats } from './memory-store.js';
export { memoryStore } from './memory-store.js';
export type { MemoryStoreOptions } from './options.js';
