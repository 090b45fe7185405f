import { coarseNow } from '@org/cache-core';
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
 * A snapshot of the live keys that start with `prefix` (and match `matcher`, if given). Taking
 * the whole list first lets callers await between keys while other code deletes, evicts or
 * clears: they iterate a plain array, never a Map that is being changed under them.
 */
export function liveKeys(memory: CacheableMemory, prefix: string, matcher?: RegExp): string[] {
  const now = coarseNow();
  const keys: string[] = [];
  for (const map of memory.store) {
    for (const [key, item] of map) {
      if (!key.startsWith(prefix) || isExpired(item, now)) continue;
      if (matcher === undefined || matcher.test(key)) keys.push(key);
    }
  }
  return keys;
}
