import { setTimeout as sleep } from 'node:timers/promises';
import { isCacheError } from '@org/cache-core';
import type { InvalidationEvent } from '../event.js';
import type { SourceContext } from '../source.js';

export type ApplyResult = 'applied' | 'malformed' | 'gave-up' | 'stopped';

export interface ApplyRetry {
  attempts: number;
  delay(attempt: number): number;
  signal: AbortSignal;
  onError(error: unknown): void;
  /** Called before each repeated attempt. */
  onRetry(error: unknown): void;
}

/**
 * Applies one event, retrying with back-off while the cache cannot carry it out. `malformed` when
 * the invalidator refused the event itself (E_INVALID_EVENT: retrying cannot help), `stopped`
 * when the source or the invalidator closed meanwhile, `gave-up` after the last attempt.
 */
export async function applyWithRetry(
  context: SourceContext,
  event: InvalidationEvent,
  retry: ApplyRetry,
): Promise<ApplyResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      await context.apply(event);
      return 'applied';
    } catch (error) {
      retry.onError(error);
      if (isCacheError(error, 'E_INVALID_EVENT')) return 'malformed';
      if (isCacheError(error, 'E_CLOSED') || retry.signal.aborted) return 'stopped';
      if (attempt >= retry.attempts) return 'gave-up';
      retry.onRetry(error);
      // Resolves true once the delay passed, false at once when the source stops.
      const due = await sleep(retry.delay(attempt - 1), true, { signal: retry.signal }).catch(() => false);
      if (!due) return 'stopped';
    }
  }
}
