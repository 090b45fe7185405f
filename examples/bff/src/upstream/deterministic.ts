/**
 * Seeded pseudo-random numbers, so the simulated upstreams answer the same data for the same id
 * in every process and every run (two BFF instances on one Redis agree on what they cache).
 */

/** FNV-1a, 32 bits. */
export function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A generator of numbers in [0, 1) seeded by `seed` (mulberry32). */
export function seededRandom(seed: string): () => number {
  let state = hashOf(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function integerBetween(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Money with two decimals. */
export function amountBetween(random: () => number, min: number, max: number): number {
  return Math.round((min + random() * (max - min)) * 100) / 100;
}

/** A Salesforce-looking 15-character id: a 3-character key prefix and 12 seeded characters. */
export function salesforceId(keyPrefix: string, seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const random = seededRandom(seed);
  let id = keyPrefix;
  while (id.length < 15) id += alphabet[Math.floor(random() * alphabet.length)];
  return id;
}

/** A day `daysAgo` before a fixed reference date, as YYYY-MM-DD (stable across runs). */
export function dayBefore(daysAgo: number): string {
  const reference = Date.UTC(2025, 0, 31);
  return new Date(reference - daysAgo * 86_400_000).toISOString().slice(0, 10);
}
