import { isCacheError } from '@org/cache-core';
import { Backoff } from '@org/cache-core/adapter';
import type { SourceContext } from '../source.js';
import { decodeEntry, type StreamEntry } from './stream-codec.js';
import type { StreamCommands } from './stream-commands.js';
import type { StreamSourceState } from './stream-health.js';

/**
 * Hands stream entries to the invalidator and acknowledges them. An entry is acknowledged only
 * after it was applied, or found malformed (a poison entry must not block the stream): a crash in
 * between re-applies it later (at least once; the invalidator drops re-deliveries it remembers).
 * An entry that fails to apply is left pending and stops the batch; the caller retries after
 * {@link EntryApplier.retryDelay}.
 */
export class EntryApplier {
  readonly #backoff: Backoff;
  /** A fail-safe completed in the consumer's current turn (see `coverTrimmed`). */
  #flushedThisTurn = false;

  constructor(
    private readonly commands: StreamCommands,
    private readonly context: SourceContext,
    private readonly state: StreamSourceState,
    private readonly stopping: () => boolean,
    retry: { retryDelayMs: number; maxRetryDelayMs: number },
  ) {
    this.#backoff = new Backoff({ initialMs: retry.retryDelayMs, maxMs: retry.maxRetryDelayMs });
  }

  /** Called at the start of each turn of the consumer loop. */
  newTurn(): void {
    this.#flushedThisTurn = false;
  }

  /** How long to wait before reading failed entries again (doubles with each failure in a row). */
  retryDelay(): number {
    return this.#backoff.next();
  }

  /** Applies entries in order; false at the first that failed to apply (it and the rest stay pending). */
  async applyAll(entries: readonly StreamEntry[]): Promise<boolean> {
    for (const entry of entries) this.state.pendingIds.add(entry.id);
    const trimmed = entries.filter((entry) => entry.fields === null).map((entry) => entry.id);
    if (trimmed.length > 0) {
      // Pending, but trimmed before anyone applied them: flush first, then let them go.
      if (!(await this.coverTrimmed(trimmed))) return false;
      this.state.lost += trimmed.length;
      await this.#ack(trimmed);
    }
    for (const entry of entries) {
      if (this.stopping()) return true;
      if (entry.fields === null) continue;
      const decoded = decodeEntry(entry.fields);
      if ('malformed' in decoded) {
        this.context.reportInvalid(decoded.malformed);
        await this.#dropMalformed(entry.id, decoded.malformed.message);
        continue;
      }
      try {
        await this.context.apply(decoded.event);
      } catch (error) {
        // The invalidator counted it already (its own validation refused the event).
        if (isCacheError(error, 'E_INVALID_EVENT')) {
          await this.#dropMalformed(entry.id, error.message);
          continue;
        }
        this.#failed(error);
        return false;
      }
      this.state.consecutiveFailures = 0;
      this.#backoff.reset();
      await this.#ack([entry.id]);
    }
    return true;
  }

  /** Asks the invalidator for a flush; false (and still owed) when the store refused. */
  async failSafe(reason: string): Promise<boolean> {
    this.state.failSafeOwed = reason;
    try {
      await this.context.failSafe(reason);
    } catch (error) {
      this.#failed(error);
      return false;
    }
    this.state.recordFailSafe(reason);
    this.#flushedThisTurn = true;
    return true;
  }

  /**
   * Pending entries that were trimmed before anyone applied them need a flush, unless one already
   * ran in this turn: they were delivered before the turn began, so that flush came after them.
   */
  coverTrimmed(ids: readonly string[]): Promise<boolean> {
    if (this.#flushedThisTurn) return Promise.resolve(true);
    const { stream, group } = this.commands.address;
    return this.failSafe(
      `${ids.length} pending entries of ${stream} (group ${group}, first ${ids[0]}) were trimmed before they were applied`,
    );
  }

  /** Acknowledged, counted here and (by the caller or the invalidator) as invalid. */
  async #dropMalformed(id: string, why: string): Promise<void> {
    this.state.malformed++;
    this.state.recordError(new Error(`malformed entry ${id}, acknowledged and dropped: ${why}`));
    await this.#ack([id]);
  }

  async #ack(ids: readonly string[]): Promise<void> {
    await this.commands.ack(ids);
    for (const id of ids) this.state.pendingIds.delete(id);
    this.state.acked += ids.length;
    this.state.position = ids[ids.length - 1];
  }

  #failed(error: unknown): void {
    this.state.failures++;
    this.state.consecutiveFailures++;
    this.state.recordError(error);
  }
}
