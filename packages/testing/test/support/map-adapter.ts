import type { CacheStore } from '@org/cache-core';
import { compileGlob, type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';

export type MapAdapterKind = 'full' | 'iterable' | 'minimal';

interface Entry {
  value: unknown;
  expiresAt: number | undefined;
}

/**
 * A tiny Map-backed keyv store adapter for the suite's own tests, expiring entries physically by
 * real time. `full` has every keyv method and every capability; `iterable` has the keyv methods
 * but no capabilities; `minimal` only what keyv requires.
 */
export function mapAdapter(kind: MapAdapterKind = 'full'): CacheStore & { entries: Map<string, Entry> } {
  const entries = new Map<string, Entry>();
  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry?.expiresAt !== undefined && Date.now() >= entry.expiresAt) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const store: Record<string | symbol, unknown> = {
    entries,
    // keyv's constructor insists on a known dialect or a url string when an adapter has an iterator.
    opts: { dialect: 'map', url: 'map://' },
    namespace: undefined,
    on: () => store,
    get: async (key: string) => live(key)?.value,
    set: async (key: string, value: unknown, ttl?: number) => {
      entries.set(key, { value, expiresAt: ttl ? Date.now() + ttl : undefined });
      return true;
    },
    delete: async (key: string) => {
      const present = live(key) !== undefined;
      entries.delete(key);
      return present;
    },
    clear: async () => entries.clear(),
  };
  if (kind === 'minimal') return store as never;

  Object.assign(store, {
    has: async (key: string) => live(key) !== undefined,
    getMany: async (keys: string[]) => keys.map((key) => live(key)?.value),
    setMany: async (items: Array<{ key: string; value: unknown; ttl?: number }>) => {
      for (const item of items)
        await (store.set as (...args: unknown[]) => Promise<unknown>)(item.key, item.value, item.ttl);
    },
    deleteMany: async (keys: string[]) => {
      for (const key of keys) entries.delete(key);
      return true;
    },
    async *iterator() {
      for (const key of [...entries.keys()]) {
        const entry = live(key);
        if (entry) yield [key, entry.value];
      }
    },
  });
  if (kind === 'iterable') return store as never;

  const capabilities: StoreCapabilities = {
    name: 'test-map',
    structuredValues: true,
    inProcess: true,
    getSync: (key) => live(key)?.value,
    async *scan(pattern, options) {
      const matcher = compileGlob(pattern);
      const batchSize = options?.batchSize ?? 100;
      let batch: string[] = [];
      for (const key of [...entries.keys()]) {
        if (!live(key) || !matcher.test(key)) continue;
        batch.push(key);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    memoryUsage: async (keys) =>
      keys.map((key) => {
        const entry = live(key);
        if (entry === undefined) return undefined;
        const text = typeof entry.value === 'string' ? entry.value : JSON.stringify(entry.value);
        return Buffer.byteLength(key) + Buffer.byteLength(text) + 48;
      }),
  };
  store[storeCapabilities] = capabilities;
  return store as never;
}
