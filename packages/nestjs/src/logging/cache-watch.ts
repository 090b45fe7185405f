import diagnosticsChannel from 'node:diagnostics_channel';
import type { LoggerService } from '@nestjs/common';
import { type Cache, type CacheEvent, cacheChannels } from '@org/cache-core';
import { RateLimitedLog } from './rate-limited-log.js';

const BREAKER_POLL_MS = 1_000;

/**
 * Reports one cache's store errors (from core's `org-cache:store-error` channel) and its circuit
 * breaker opening and closing. Core publishes no breaker event, so while store errors arrive the
 * breaker state is read once a second; with a healthy store nothing runs. Returns `stop`.
 *
 * Events are matched by the cache's prefix: two caches sharing a prefix in one process (two app
 * instances in one test, say) see each other's store errors.
 */
export function watchCache(cache: Cache, logger: LoggerService, intervalMs: number): () => void {
  const storeErrors = new RateLimitedLog(logger, 'error', intervalMs);
  let breaker = 'closed';
  let openedAt = 0;
  let errorsSinceLastPoll = 0;
  let poll: NodeJS.Timeout | undefined;

  const checkBreaker = () => {
    const state = cache.stats().store.breaker;
    if (state !== 'closed' && breaker === 'closed') {
      openedAt = performance.now();
      logger.warn(
        `circuit opened: store ${cache.stats().store.name} is failing; calls fail fast and go to the fetchers`,
      );
    } else if (state === 'closed' && breaker !== 'closed') {
      const seconds = ((performance.now() - openedAt) / 1000).toFixed(1);
      logger.log(`circuit closed: store ${cache.stats().store.name} answers again (after ${seconds} s)`);
    }
    breaker = state;
    if (state === 'closed' && errorsSinceLastPoll === 0) {
      clearInterval(poll);
      poll = undefined;
    }
    errorsSinceLastPoll = 0;
  };

  const onStoreError = (message: unknown) => {
    const event = message as CacheEvent;
    if (event.cache !== cache.prefix) return;
    errorsSinceLastPoll++;
    const where = event.domain === undefined ? event.bucket : `${event.domain}:${event.bucket}`;
    const key = event.key === undefined ? '' : ` key ${event.key}`;
    storeErrors.report(`store error in ${where}${key}: ${describe(event.error)}`);
    if (poll === undefined) {
      checkBreaker();
      poll = setInterval(checkBreaker, BREAKER_POLL_MS).unref();
    }
  };

  diagnosticsChannel.subscribe(cacheChannels.storeError, onStoreError);
  return () => {
    diagnosticsChannel.unsubscribe(cacheChannels.storeError, onStoreError);
    clearInterval(poll);
    storeErrors.close();
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
