import { coarseNow } from '@org/cache-core/adapter';
import type { CacheableMemory } from 'cacheable';

export interface StoredItem {
  key: string;
  value: unknown;
  expires?: number;
}

// CacheableMemory's own test, read against the coarse clock (up to 1 ms behind Date.now()).
function isExpired(item: StoredItem, now: number): boolean {
  return item.expires !== undefined && item.expires !== 0 && now > item.expires;
}

/**
 * The live entry for `key`, read straight from CacheableMemory's hash map. Unlike `get`, it does
 * not refresh the LRU position: `has`, `delete`, scans and memory reports are not uses of a value,
 * and must not keep an entry from being evicted.
 */
export function peek(memory: CacheableMemory, key: string): StoredItem | undefined {
  const item: StoredItem | undefined = memory.getStore(key).get(key);
  if (item === undefined) return undefined;
  // Only entries with an expiry need the clock. The coarse one: Date.now() itself costs about a
  // fifth of an in-memory hit, and core checks its own expiry with the same clock anyway.
  if (item.expires !== undefined && item.expires !== 0 && isExpired(item, coarseNow())) return undefined;
  return item;
}

/** A snapshot of every held key that starts with `prefix`, expired or not (for a scoped clear). */
export function heldKeys(memory: CacheableMemory, prefix: string): string[] {
  const keys: string[] = [];
  for (const map of memory.store) {
    for (const key of map.keys()) if (key.startsWith(prefix)) keys.push(key);
  }
  return keys;
}

/**
 * Every held entry, walked live: a Map iterator skips entries deleted since it started and is
 * not disturbed by writes, so callers may await (and others delete) between steps. Expired
 * entries are included, and a clear() leaves the walk on the old map: `peek` what it yields.
 */
export function* walkEntries(memory: CacheableMemory): Generator<StoredItem> {
  for (const map of memory.store) yield* (map as Map<string, StoredItem>).values();
}
