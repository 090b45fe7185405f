import type { CacheStore, StoreInput } from '@org/cache-core';
import { type MemoryStore, type MemoryStoreOptions, memoryStore } from '@org/cache-memory';
import type { KeyvStoreAdapter } from 'keyv';
import { describe, expectTypeOf, it } from 'vitest';

describe('@org/cache-memory public types', () => {
  it('memoryStore() is a keyv store adapter and a core store', () => {
    expectTypeOf(memoryStore()).toEqualTypeOf<MemoryStore>();
    expectTypeOf<MemoryStore>().toExtend<KeyvStoreAdapter>();
    expectTypeOf<MemoryStore>().toExtend<CacheStore>();
    expectTypeOf<MemoryStore>().toExtend<StoreInput>();
  });

  it('options are optional, take durations, and name only what exists', () => {
    expectTypeOf(memoryStore).parameter(0).toEqualTypeOf<MemoryStoreOptions | undefined>();
    expectTypeOf<{ maxEntries: number; ttl: '90s'; checkInterval: 500 }>().toExtend<MemoryStoreOptions>();
    expectTypeOf<{ useClone: false }>().not.toExtend<MemoryStoreOptions>();
    expectTypeOf<{ ttl: 'soon' }>().not.toExtend<MemoryStoreOptions>();
  });
});
