import { CacheError } from '@org/cache-core';
import type { InvalidationEvent } from './event.js';
import type { ApplyOutcome } from './outcome.js';
import type { InvalidationSource, SourceContext, SourceHealth } from './source.js';

export interface InProcessSource extends InvalidationSource {
  /**
   * Delivers one event (anything `normalize` accepts) and resolves once it is applied. Rejects
   * with E_INVALID_EVENT for a malformed event, E_CLOSED before start or after stop, and with
   * the cache's error when it could not be applied.
   */
  emit(input: unknown): Promise<ApplyOutcome>;
}

export interface InProcessSourceOptions {
  name?: string;
  /** Turns what `emit` receives into an event. Default: the input is an `InvalidationEvent`. */
  normalize?: (input: unknown) => InvalidationEvent;
}

/** A source fed by the process itself: tests, local development, a dev endpoint. */
export function inProcessSource(options: InProcessSourceOptions = {}): InProcessSource {
  const name = options.name ?? 'in-process';
  const normalize = options.normalize ?? ((input: unknown) => input as InvalidationEvent);
  let context: SourceContext | undefined;
  let delivered = 0;
  const pending = new Set<Promise<unknown>>();

  return {
    name,
    async start(ctx) {
      context = ctx;
    },
    async stop() {
      context = undefined;
      await Promise.allSettled(pending);
    },
    emit(input) {
      const target = context;
      if (!target) return Promise.reject(new CacheError('E_CLOSED', `source ${name} is not started`));
      let event: InvalidationEvent;
      try {
        event = normalize(input);
      } catch (error) {
        target.reportInvalid(error);
        return Promise.reject(error);
      }
      const applying = target.apply(event);
      pending.add(applying);
      applying.then(
        () => {
          delivered++;
          pending.delete(applying);
        },
        () => pending.delete(applying),
      );
      return applying;
    },
    health(): SourceHealth {
      return context
        ? { status: 'up', position: String(delivered), delivered }
        : { status: 'down', reason: 'not started', delivered };
    },
  };
}
