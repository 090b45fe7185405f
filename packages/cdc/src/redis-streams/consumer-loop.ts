import { setTimeout as sleep } from 'node:timers/promises';
import { isCacheError } from '@org/cache-core';
import { Backoff, settleWithin } from '@org/cache-core/adapter';
import type { RedisConnection } from '@org/cache-redis/connection';
import type { SourceContext } from '../source.js';
import { EntryApplier } from './entry-applier.js';
import { STREAM_START, type StreamEntry } from './stream-codec.js';
import type { StreamCommands } from './stream-commands.js';
import { isReplyError, isServerReply } from './stream-connection.js';
import type { StreamSourceState } from './stream-health.js';
import { unreadTrimmed } from './trim-gap.js';

export interface ConsumerLoopSettings {
  batchSize: number;
  blockMs: number;
  claimIdleMs: number;
  /** How often idle entries are claimed and the group's position is checked against the cap. */
  claimIntervalMs: number;
  /** First delay before entries that failed to apply are read again; doubles up to `maxRetryDelayMs`. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
}

/** How long stop() waits for an apply in flight before it closes the connections anyway. */
const STOP_WAIT_MS = 3_000;
/** XAUTOCLAIM rounds per claim pass: the rest waits for the next pass. */
const CLAIM_ROUNDS = 10;
const REDIS_RETRY_MS = 100;
const REDIS_MAX_RETRY_MS = 2_000;

/**
 * The reading loop of one consumer. Each turn: (re)create the group if needed; check whether the
 * cap trimmed entries the group never read and fail safe if so; re-read this consumer's own
 * pending entries when some may be un-acknowledged (start, a failed apply, a Redis error); claim
 * entries idle on other consumers; then block for new entries on a connection of its own.
 *
 * An entry that failed to apply stays pending (see EntryApplier), and no new entries are read
 * until it applies, so a store outage costs one attempt per back-off, never a hot loop.
 */
export class ConsumerLoop {
  readonly #commands: StreamCommands;
  readonly #main: RedisConnection;
  #blocking: RedisConnection;
  readonly #state: StreamSourceState;
  readonly #settings: ConsumerLoopSettings;
  readonly #applier: EntryApplier;
  readonly #redisBackoff = new Backoff({ initialMs: REDIS_RETRY_MS, maxMs: REDIS_MAX_RETRY_MS });
  readonly #wake = new AbortController();
  #running: Promise<void> | undefined;
  #stopping = false;
  #groupReady = false;
  #hadGroup = false;
  #rereadPending = true;
  #behind = false;
  #nextClaimAt = 0;
  #nextCheckAt = 0;
  /** Entries were trimmed unread: once the fail-safe for them is done, Redis's read counter is reset. */
  #trimmedOwed = false;

  constructor(input: {
    commands: StreamCommands;
    main: RedisConnection;
    context: SourceContext;
    state: StreamSourceState;
    settings: ConsumerLoopSettings;
  }) {
    this.#commands = input.commands;
    this.#main = input.main;
    this.#blocking = this.#openBlocking();
    this.#state = input.state;
    this.#settings = input.settings;
    this.#applier = new EntryApplier(
      input.commands,
      input.context,
      input.state,
      () => this.#stopping,
      input.settings,
    );
  }

  get blockingReady(): boolean {
    return this.#blocking.isReady;
  }

  /**
   * Creates the group (so every entry appended from now on is this group's), then runs the loop
   * in the background. A Redis that is down does not fail this: the loop keeps trying. A server
   * that refuses (the key is not a stream, no permission) does.
   */
  async begin(): Promise<void> {
    await this.#main.firstAttempt();
    try {
      await this.#ensureGroup();
    } catch (error) {
      if (isServerReply(error)) throw error;
      this.#redisFailed(error);
    }
    this.#running = this.#run();
  }

  /** Stops reading; waits (bounded) for an apply in flight; closes the blocking connection. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake.abort();
    // Destroying the blocking connection ends a BLOCK read at once (its entries stay pending).
    const closing = this.#blocking.close({ wait: false });
    if (this.#running !== undefined) await settleWithin(this.#running, STOP_WAIT_MS);
    await closing;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.#turn();
      } catch (error) {
        if (this.#stopping) break;
        this.#redisFailed(error);
        await this.#pause(this.#redisBackoff.next());
      }
    }
  }

  async #turn(): Promise<void> {
    const now = Date.now();
    this.#applier.newTurn();
    if (this.#behind || now >= this.#nextCheckAt) await this.#checkTrimmed();
    if (!this.#groupReady) await this.#ensureGroup();
    const owed = this.#state.failSafeOwed;
    if (owed !== undefined && !(await this.#applier.failSafe(owed))) return this.#retryLater();
    if (this.#trimmedOwed) {
      // Flushed: now Redis may forget the trimmed entries (or the next check would flush again).
      await this.#commands.forgetTrimmed();
      this.#trimmedOwed = false;
    }
    if (this.#rereadPending) {
      if (!(await this.#drainPending())) return this.#retryLater();
      this.#rereadPending = false;
    }
    if (now >= this.#nextClaimAt) {
      this.#nextClaimAt = now + this.#settings.claimIntervalMs;
      if (!(await this.#claim())) return this.#retryLater();
    }
    const entries = await this.#readNew();
    this.#redisRecovered();
    this.#behind = entries.length >= this.#settings.batchSize;
    if (!(await this.#applier.applyAll(entries))) return this.#retryLater();
  }

  async #ensureGroup(): Promise<void> {
    const created = await this.#commands.createGroup();
    this.#groupReady = true;
    const { stream, group } = this.#commands.address;
    // Created again at the end of the stream, then flushed: what the group missed came before the flush.
    if (created && this.#hadGroup) {
      this.#state.failSafeOwed = `consumer group ${group} of ${stream} disappeared (Redis restarted without persistence, or the group was destroyed) and was created again: events in between are lost`;
    }
    this.#hadGroup = true;
  }

  async #checkTrimmed(): Promise<void> {
    this.#nextCheckAt = Date.now() + this.#settings.claimIntervalMs;
    const position = await this.#commands.position();
    if (position === undefined) {
      this.#groupReady = false;
      return;
    }
    this.#state.groupPending = position.pending;
    this.#state.lag = position.lag;
    const lost = unreadTrimmed(position);
    if (lost === 0 || this.#trimmedOwed) return;
    this.#trimmedOwed = true;
    this.#state.lost += lost;
    const { stream, group } = this.#commands.address;
    this.#state.failSafeOwed = `the cap of ${stream} trimmed ${lost} entries group ${group} never read (its last delivered id ${position.lastDeliveredId})`;
  }

  /** This consumer's own un-acknowledged entries, from the start of its pending list. */
  async #drainPending(): Promise<boolean> {
    let after = STREAM_START;
    for (;;) {
      const entries = await this.#commands.readPending(after, this.#settings.batchSize);
      this.#redisRecovered();
      if (entries.length === 0) break;
      if (!(await this.#applier.applyAll(entries))) return false;
      if (this.#stopping) return true;
      after = (entries[entries.length - 1] as StreamEntry).id;
    }
    this.#state.pendingIds.clear();
    return true;
  }

  /** Takes over entries idle longer than `claimIdle` on any consumer of the group (a crashed one). */
  async #claim(): Promise<boolean> {
    let cursor = STREAM_START;
    for (let round = 0; round < CLAIM_ROUNDS && !this.#stopping; round++) {
      const claimed = await this.#commands.autoClaim(
        this.#settings.claimIdleMs,
        cursor,
        this.#settings.batchSize,
      );
      if (claimed.deletedIds.length > 0) {
        // Redis has already dropped them from the pending list: only a flush can cover them now.
        this.#state.lost += claimed.deletedIds.length;
        if (!(await this.#applier.coverTrimmed(claimed.deletedIds))) return false;
      }
      this.#state.claimed += claimed.entries.length;
      if (!(await this.#applier.applyAll(claimed.entries))) return false;
      cursor = claimed.cursor;
      if (cursor === STREAM_START) break;
    }
    return true;
  }

  async #readNew(): Promise<StreamEntry[]> {
    try {
      return await this.#commands.readNew(this.#blocking, this.#settings.batchSize, this.#settings.blockMs);
    } catch (error) {
      // No answer within BLOCK plus the deadline: a half-open connection. Start a fresh one.
      if (isCacheError(error, 'E_STORE_TIMEOUT') && !this.#stopping) {
        void this.#blocking.close({ wait: false });
        this.#blocking = this.#openBlocking();
      }
      throw error;
    }
  }

  async #retryLater(): Promise<void> {
    this.#rereadPending = true;
    await this.#pause(this.#applier.retryDelay());
  }

  #redisFailed(error: unknown): void {
    this.#state.redisFailing = true;
    this.#state.recordError(error);
    // Some entries may be applied and not acknowledged, and the group may be gone: look again.
    this.#rereadPending = true;
    this.#nextCheckAt = 0;
    if (isReplyError(error, 'NOGROUP')) this.#groupReady = false;
  }

  #redisRecovered(): void {
    if (!this.#state.redisFailing) return;
    this.#state.redisFailing = false;
    this.#redisBackoff.reset();
  }

  /**
   * XREADGROUP BLOCK holds its connection until entries come or `block` passes: it gets a
   * connection of its own (on a cluster, a cluster client of its own), so acknowledgements and
   * claims on the main one are never queued behind it.
   */
  #openBlocking(): RedisConnection {
    return this.#main.duplicate(`cdc-read-${this.#commands.address.consumer}`);
  }

  #pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.#wake.signal }).catch(() => undefined);
  }
}
