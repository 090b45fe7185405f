import type { ApplyOutcome, InvalidationEvent, InvalidationSource } from '@org/cache-cdc';
import { isCacheError } from '@org/cache-core';

export interface RecentInvalidation {
  /** ISO-8601, when the invalidator finished with the event. */
  at: string;
  entity: string;
  kind: string;
  ids: string[] | '*';
  /** The invalidator's outcome (`applied`, `skipped`, `duplicate`, `ignored`), `invalid` or `failed`. */
  status: string;
  keys: number;
  tags: number;
}

const MAX_IDS_SHOWN = 20;

/** The last events the invalidator handled, newest first, for the dashboard. */
export class RecentInvalidations {
  readonly #entries: RecentInvalidation[] = [];

  constructor(readonly capacity = 50) {}

  record(event: InvalidationEvent, outcome: ApplyOutcome | 'invalid' | 'failed'): void {
    // A source may hand over a malformed event: describe whatever is readable.
    const entity = typeof event?.entity === 'string' ? event.entity : 'unknown';
    const kind = typeof event?.kind === 'string' ? event.kind : 'unknown';
    const ids = Array.isArray(event?.ids)
      ? event.ids.filter((id): id is string => typeof id === 'string').slice(0, MAX_IDS_SHOWN)
      : '*';
    const applied = typeof outcome === 'object' ? outcome : undefined;
    this.#entries.unshift({
      at: new Date().toISOString(),
      entity,
      kind,
      ids,
      status: applied?.status ?? (outcome as string),
      keys: applied?.keys ?? 0,
      tags: applied?.tags ?? 0,
    });
    if (this.#entries.length > this.capacity) this.#entries.length = this.capacity;
  }

  list(): RecentInvalidation[] {
    return this.#entries.map((entry) => ({ ...entry, ids: entry.ids === '*' ? '*' : [...entry.ids] }));
  }
}

/**
 * The same source, with every event it delivers (and what became of it) written to `log`. The
 * source still gets the invalidator's answer, rejections included, so its retries are unchanged.
 */
export function recordedSource(source: InvalidationSource, log: RecentInvalidations): InvalidationSource {
  return {
    name: source.name,
    start: (context) =>
      source.start({
        ...context,
        apply: async (event) => {
          try {
            const outcome = await context.apply(event);
            log.record(event, outcome);
            return outcome;
          } catch (error) {
            log.record(event, isCacheError(error, 'E_INVALID_EVENT') ? 'invalid' : 'failed');
            throw error;
          }
        },
      }),
    stop: () => source.stop(),
    health: () => source.health(),
  };
}
