/**
 * Rough bytes held by one entry. An estimate, not a measurement: V8 does not expose the size of
 * an object graph, strings may be stored one byte per character, and shared sub-objects are
 * counted once per entry that holds them. Good enough to rank patterns by footprint and to see
 * growth, which is what memoryUsageByPattern is for.
 */
export function entryBytes(key: string, value: unknown): number {
  return ENTRY_OVERHEAD + key.length * 2 + valueBytes(value, new Set());
}

// The hash-map slot, the { key, value, expires } record and the LRU list node for one entry.
const ENTRY_OVERHEAD = 96;
const OBJECT_OVERHEAD = 16;
const SLOT = 8;

// Only frozen objects are memoized: their estimate cannot go stale. Core freezes what it stores,
// so repeated reports over the same entries cost one WeakMap lookup each.
const frozenEstimates = new WeakMap<object, number>();

function valueBytes(value: unknown, ancestors: Set<object>): number {
  switch (typeof value) {
    case 'string':
      return value.length * 2;
    case 'number':
    case 'bigint':
    case 'symbol':
      return SLOT;
    case 'boolean':
      return 4;
    case 'object':
      return value === null ? 0 : objectBytes(value, ancestors);
    default:
      return 0;
  }
}

function objectBytes(value: object, ancestors: Set<object>): number {
  const cached = frozenEstimates.get(value);
  if (cached !== undefined) return cached;
  // A reference back to an object being measured adds a pointer, not the object again.
  if (ancestors.has(value)) return SLOT;
  ancestors.add(value);
  const bytes = OBJECT_OVERHEAD + contentBytes(value, ancestors);
  ancestors.delete(value);
  if (Object.isFrozen(value)) frozenEstimates.set(value, bytes);
  return bytes;
}

function contentBytes(value: object, ancestors: Set<object>): number {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value.byteLength;
  if (value instanceof Date) return SLOT;
  let bytes = 0;
  if (value instanceof Map) {
    for (const [key, item] of value)
      bytes += 2 * SLOT + valueBytes(key, ancestors) + valueBytes(item, ancestors);
    return bytes;
  }
  if (value instanceof Set) {
    for (const item of value) bytes += SLOT + valueBytes(item, ancestors);
    return bytes;
  }
  if (Array.isArray(value)) {
    for (const item of value) bytes += SLOT + valueBytes(item, ancestors);
    return bytes;
  }
  for (const [key, item] of Object.entries(value))
    bytes += SLOT + key.length * 2 + valueBytes(item, ancestors);
  return bytes;
}
