import type { CacheableMemory } from 'cacheable';

export interface StoredItem {
  key: string;
  value: unknown;
  expires?: number;
}

// Same test as CacheableMemory's own reads, so every path agrees on when an entry is gone.
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
  // Only entries with an expiry need the clock (a syscall-free but measurable cost per read).
  if (item.expires !== undefined && item.expires !== 0 && isExpired(item, Date.now())) return undefined;
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
  const now = Date.now();
  const keys: string[] = [];
  for (const map of memory.store) {
    for (const [key, item] of map) {
      if (!key.startsWith(prefix) || isExpired(item, now)) continue;
      if (matcher === undefined || matcher.test(key)) keys.push(key);
    }
  }
  return keys;
}
