import { type Cache, cacheKey, type Duration, parseDuration } from '@org/cache-core';
import { z } from 'zod';
import { isReplayId } from './replay-id.js';

/** Where a subscription resumes: a replay id, and since when every later event is known retained. */
export interface ReplayPosition {
  /** A decimal string: replay ids are 64-bit and lose precision as JS numbers above 2^53. */
  replayId: string;
  /**
   * ms since the epoch: when the position was saved, or, for an event's position, the event's
   * commit time if earlier (a lagging consumer saves positions of old events, and the events
   * after them expire 72 h after THEIR publication, not after the save).
   */
  savedAt: number;
}

/** Keeps the replay position of each topic across restarts. */
export interface PositionStore {
  /** The stored position, or undefined when there is none (or it is unreadable). */
  load(topic: string): Promise<ReplayPosition | undefined>;
  save(topic: string, position: ReplayPosition): Promise<void>;
}

export interface CachePositionStoreOptions {
  /** How long a saved position is kept. Default 144 h (twice Salesforce's retention). */
  ttl?: Duration;
}

const storedPosition = z.object({
  replayId: z.string().refine(isReplayId, 'a decimal replay id'),
  savedAt: z.number().finite().nonnegative(),
});

/**
 * The cache key of a topic's position: `cdc:replay:<topic>` (under the cache's prefix), e.g.
 * `bff:cdc:replay:/data/OrderChangeEvent`. It is an ordinary entry: `scan('cdc:*')` shows it, and
 * a pattern delete that matches it (a rule with `patterns: ['*']`) removes it. Nothing breaks:
 * the next event or keepalive saves it again, and a restart without it fails safe.
 */
export function replayPositionKey(topic: string): string {
  return cacheKey('cdc', 'replay', topic);
}

/**
 * Positions kept in the cache's own store, as `{ replayId, savedAt }` JSON under
 * `replayPositionKey(topic)`, with a TTL so a topic no longer read does not linger. Reads and
 * writes go through the cache: a store that is down reads as "no position" (the source then fails
 * safe) and a dropped write is counted in the cache's stats (the next save replaces it).
 */
export function cachePositionStore(cache: Cache, options: CachePositionStoreOptions = {}): PositionStore {
  const ttlMs = parseDuration(options.ttl ?? '144h', 'cachePositionStore({ ttl })');
  return {
    async load(topic) {
      const parsed = storedPosition.safeParse(await cache.get(replayPositionKey(topic)));
      return parsed.success ? parsed.data : undefined;
    },
    async save(topic, position) {
      await cache.set(replayPositionKey(topic), position, { ttl: ttlMs });
    },
  };
}
