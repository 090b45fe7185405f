// The source's state machine (subscribe, apply, resubscribe, stop) in one file, so its transitions
// read together; the parts that need no state live in the sibling files.
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheError } from '@org/cache-core';
import { backoffDelay } from '@org/cache-core/adapter';
import type { InvalidationEvent } from '../event.js';
import { normalizeSalesforceEvent } from '../salesforce.js';
import type { InvalidationSource, SourceContext } from '../source.js';
import { type ApplyResult, applyWithRetry } from './apply-retry.js';
import { FailSafeGate } from './fail-safe-gate.js';
import {
  describePubSubHealth,
  emptyPubSubCounters,
  type Lifecycle,
  type Problem,
  pubSubStatus,
  type SalesforcePubSubHealth,
} from './pubsub-health.js';
import {
  type ResolvedPubSubOptions,
  resolvePubSubOptions,
  type SalesforcePubSubSourceOptions,
} from './pubsub-options.js';
import { ReplayCursor } from './replay-cursor.js';
import { type ReadReplayId, readReplayId, toClientReplayId } from './replay-id.js';
import { unusablePosition } from './retention.js';
import { SerialQueue } from './serial-queue.js';
import { isEventParseError, messageOf, rejectsReplayId } from './stream-errors.js';
import type { StreamListener, TopicStream } from './topic-stream.js';

/** One subscription, from the subscribe call to its end. */
interface StreamState {
  /** The replay id it was opened from, or undefined for the latest event. */
  fromReplayId: string | undefined;
  stream: TopicStream | undefined;
  received: number;
  /** Its events are dropped: an event before them could not be applied. */
  dropping: boolean;
  ended: boolean;
  /** Its requested events were all delivered and more were not requested yet. */
  exhausted: boolean;
}

/**
 * An invalidation source on the Salesforce Pub/Sub API, through `salesforce-pubsub-api-client`.
 *
 * - Resumes from the replay id it stored (by default in the cache: `cdc:replay:<topic>`). With no
 *   position, or one older than `retention`, it cannot know what it missed: it subscribes from the
 *   latest event and fails safe (`context.failSafe`) before applying anything. Same when the
 *   server rejects the stored replay id.
 * - Applies events one at a time, in order. An event the cache could not take is retried with
 *   back-off; then the source drops the rest of the stream and resubscribes from before it.
 * - Saves the position after each event and keepalive (coalesced), and on stop.
 *
 * @example
 * await cdc.subscribe(salesforcePubSubSource({ client, topic: '/data/ChangeEvents', cache }));
 */
export class SalesforcePubSubSource implements InvalidationSource {
  readonly name: string;
  readonly #options: ResolvedPubSubOptions;
  readonly #lifetime = new AbortController();
  readonly #counters = emptyPubSubCounters();
  readonly #queue = new SerialQueue((error) => this.#recordError(error));
  readonly #cursor: ReplayCursor;
  readonly #failSafe: FailSafeGate;
  #context: SourceContext | undefined;
  #lifecycle: Lifecycle = 'idle';
  #starting = false;
  #stopping: Promise<void> | undefined;
  #current: StreamState | undefined;
  #resubscribeAttempt = 0;
  #lastActivityAt: number | undefined;
  #lastKeepaliveAt: number | undefined;
  #lastError: { at: string; message: string } | undefined;
  #streamProblem: Problem | undefined;
  #applyProblem: Problem | undefined;

  constructor(options: SalesforcePubSubSourceOptions) {
    this.#options = resolvePubSubOptions(options);
    this.name = this.#options.name;
    this.#cursor = new ReplayCursor(this.#options.positions, this.#options.topic, {
      onWriteError: (error) => {
        this.#counters.positionWriteFailures++;
        this.#recordError(error);
      },
      onImprecise: () => this.#counters.impreciseReplayIds++,
    });
    this.#failSafe = new FailSafeGate(
      this.#options.clock,
      (attempt) => this.#delay(attempt),
      (error) => this.#recordError(error),
    );
  }

  /** Resolves once subscribed and, when it had to fail safe, once the first flush was tried. */
  async start(context: SourceContext): Promise<void> {
    if (this.#stopped()) throw new CacheError('E_CLOSED', `source ${this.name} is stopped`);
    if (this.#starting || this.#lifecycle !== 'idle')
      throw new CacheError('E_INVALID_OPTION', `source ${this.name} is already started`);
    const { topic, clock, retentionMs } = this.#options;
    this.#starting = true;
    try {
      const stored = await this.#options.positions.load(topic);
      if (this.#stopped()) throw new CacheError('E_CLOSED', `source ${this.name} is stopped`);
      this.#context = context;
      const unusable = unusablePosition(stored, topic, clock.now(), retentionMs);
      if (unusable !== undefined) this.#failSafe.require(unusable);
      else if (stored) this.#cursor.restore(stored);
      const state = await this.#open();
      if (!state.ended && this.#lifecycle === 'idle') this.#lifecycle = 'subscribed';
    } catch (error) {
      this.#context = undefined;
      throw error;
    } finally {
      this.#starting = false;
    }
    // Waits for the first flush attempt, not for a store that is down to come back.
    const attempted = this.#failSafe.attempted();
    void this.#queue.enqueue(() => this.#settleFailSafe());
    await attempted;
  }

  /** Stops; resolves once no event is being applied and the position is saved. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  health(): SalesforcePubSubHealth {
    const { clock, topic, streams, maxSilenceMs } = this.#options;
    const subscribed = this.#lifecycle === 'subscribed' && this.#lastActivityAt !== undefined;
    const { status, reason } = pubSubStatus({
      lifecycle: this.#lifecycle,
      problems: [this.#applyProblem, this.#failSafe.problem, this.#streamProblem],
      silentForMs: subscribed ? clock.now() - (this.#lastActivityAt ?? 0) : undefined,
      maxSilenceMs,
    });
    return describePubSubHealth({
      status,
      reason,
      topic,
      api: streams.api,
      position: this.#cursor.position,
      lastKeepaliveAt: this.#lastKeepaliveAt,
      failSafe: this.#failSafe.last,
      lastError: this.#lastError,
      counters: this.#counters,
    });
  }

  async #shutdown(): Promise<void> {
    this.#lifecycle = 'stopped';
    this.#lifetime.abort();
    this.#failSafe.release();
    const state = this.#current;
    this.#current = undefined;
    if (state) {
      state.dropping = true;
      this.#cancel(state);
      state.stream?.detach();
    }
    await this.#queue.drained();
    await this.#cursor.flush();
    this.#context = undefined;
  }

  /** Subscribes from the position, or from the latest event with a fail-safe due. */
  async #open(): Promise<StreamState> {
    const position = this.#cursor.position;
    if (this.#failSafe.due === undefined && position === undefined)
      this.#failSafe.require('resubscribed before any replay position was known');
    const fromReplayId = this.#failSafe.due === undefined ? position?.replayId : undefined;
    const state: StreamState = {
      fromReplayId,
      stream: undefined,
      received: 0,
      dropping: false,
      ended: false,
      exhausted: false,
    };
    this.#current = state;
    const { streams, topic, numRequested, clock } = this.#options;
    try {
      state.stream = await streams.open(
        topic,
        fromReplayId === undefined
          ? { kind: 'latest' }
          : { kind: 'replay', replayId: toClientReplayId(fromReplayId) },
        numRequested,
        this.#listen(state),
      );
    } catch (error) {
      if (this.#current === state) this.#current = undefined;
      throw error;
    }
    if (this.#stopped()) {
      this.#cancel(state);
      state.stream.detach();
    } else if (state.ended) {
      state.stream.detach();
    } else {
      this.#lastActivityAt = clock.now();
    }
    return state;
  }

  #listen(state: StreamState): StreamListener {
    const live = () => this.#current === state && !state.ended && !this.#stopped();
    const active = () => {
      this.#lastActivityAt = this.#options.clock.now();
      this.#resubscribeAttempt = 0;
    };
    const received = (task: () => Promise<void>) => {
      active();
      state.received++;
      this.#counters.eventsReceived++;
      if (!state.dropping) void this.#queue.enqueue(task);
    };
    return {
      event: (raw) => {
        if (live()) received(() => this.#handleEvent(state, raw));
      },
      lastEvent: () => {
        if (!live()) return;
        state.exhausted = true;
        // Behind the batch's events: at most one batch waits in memory.
        void this.#queue.enqueue(() => this.#requestMore(state));
      },
      keepalive: (latestReplayId, pending) => {
        if (!live()) return;
        active();
        this.#lastKeepaliveAt = this.#options.clock.now();
        void this.#queue.enqueue(() => this.#handleKeepalive(state, latestReplayId, pending));
      },
      error: (error) => {
        if (!isEventParseError(error)) return this.#streamDown(state, error);
        if (live()) received(() => this.#handleUndecodable(state, error));
      },
      end: () => this.#streamDown(state, undefined),
    };
  }

  async #handleEvent(state: StreamState, raw: unknown): Promise<void> {
    if (!(await this.#ready(state))) return;
    const replay = readReplayId((raw as { replayId?: unknown } | null)?.replayId);
    let event: InvalidationEvent;
    try {
      event = normalizeSalesforceEvent(raw);
    } catch (error) {
      this.#skipMalformed(error, replay);
      return;
    }
    const result = await this.#apply(event);
    if (result === 'applied') this.#cursor.advance(replay, this.#options.clock.now(), event.committedAt);
    else if (result === 'malformed')
      this.#skipMalformed(undefined, replay); // the invalidator counted it
    else if (result === 'gave-up') this.#abandon(state, event);
  }

  async #handleUndecodable(state: StreamState, error: { replayId?: unknown }): Promise<void> {
    if (await this.#ready(state)) this.#skipMalformed(error, readReplayId(error.replayId));
  }

  async #handleKeepalive(
    state: StreamState,
    latestReplayId: unknown,
    pending: number | undefined,
  ): Promise<void> {
    // With nothing requested, newer events may exist undelivered: the id does not say we have them.
    if (state.exhausted || pending === 0) return;
    if (!(await this.#ready(state)) || state.exhausted) return;
    this.#cursor.advance(readReplayId(latestReplayId), this.#options.clock.now());
  }

  async #requestMore(state: StreamState): Promise<void> {
    if (this.#current !== state || state.ended || state.dropping || this.#stopped()) return;
    state.stream?.requestMore(this.#options.numRequested);
    state.exhausted = false;
  }

  /** True when the stream's work may go on: not stopped, not dropped, the fail-safe done. */
  async #ready(state: StreamState): Promise<boolean> {
    const usable = () => !state.dropping && !this.#stopped();
    return usable() && (await this.#settleFailSafe()) && usable();
  }

  #settleFailSafe(): Promise<boolean> {
    return this.#failSafe.settle(this.#context, this.#lifetime.signal);
  }

  async #apply(event: InvalidationEvent): Promise<ApplyResult> {
    if (!this.#context) return 'stopped';
    const result = await applyWithRetry(this.#context, event, {
      attempts: this.#options.applyAttempts,
      delay: (attempt) => this.#delay(attempt),
      signal: this.#lifetime.signal,
      onError: (error) => this.#recordError(error),
      onRetry: (error) => {
        this.#counters.applyRetries++;
        this.#applyProblem = {
          status: 'degraded',
          reason: `retrying event ${event.position ?? '(no replay id)'}: ${messageOf(error)}`,
        };
      },
    });
    if (result === 'applied') {
      this.#counters.applied++;
      this.#applyProblem = undefined;
    }
    return result;
  }

  /**
   * An event could not be applied: the position stays before it, the rest of its stream is
   * dropped, and the next subscription starts from the position. Nothing more is requested, so
   * the server ends the stream (Pub/Sub closes one with nothing requested within about 60 s)
   * unless the client can end it now; its 'end' resubscribes.
   */
  #abandon(state: StreamState, event: InvalidationEvent): void {
    state.dropping = true;
    const from = this.#cursor.position?.replayId ?? 'the latest event, after a fail-safe';
    this.#applyProblem = {
      status: 'down',
      reason: `could not apply event ${event.position ?? '(no replay id)'} after ${this.#options.applyAttempts} attempts (${this.#lastError?.message}); resubscribing from ${from}`,
    };
    if (this.#current === state && !state.ended && this.#cancel(state)) this.#streamDown(state, undefined);
  }

  /** Counts and skips an event that is not a change event; `error` is undefined once reported. */
  #skipMalformed(error: unknown, replay: ReadReplayId | undefined): void {
    this.#counters.malformed++;
    if (error !== undefined) {
      this.#recordError(error);
      this.#context?.reportInvalid(error);
    }
    this.#cursor.advance(replay, this.#options.clock.now());
  }

  /** The stream ended or failed: resubscribe after a back-off, behind the events already queued. */
  #streamDown(state: StreamState, error: unknown): void {
    if (state.ended) return;
    state.ended = true;
    if (error !== undefined) this.#recordError(error);
    if (this.#current !== state || this.#stopped()) return;
    this.#current = undefined;
    state.stream?.detach();
    const rejected = state.fromReplayId !== undefined && state.received === 0 && rejectsReplayId(error);
    if (rejected) {
      this.#failSafe.require(`the server rejected replay id ${state.fromReplayId}: ${messageOf(error)}`);
      this.#cursor.forget();
    }
    this.#scheduleResubscribe(error === undefined ? 'the stream ended' : `stream error: ${messageOf(error)}`);
  }

  #scheduleResubscribe(why: string, status: Problem['status'] = 'degraded'): void {
    this.#lifecycle = 'resubscribing';
    const from =
      this.#failSafe.due === undefined
        ? (this.#cursor.position?.replayId ?? 'the latest event')
        : 'the latest event, after a fail-safe';
    this.#streamProblem = { status, reason: `${why}; resubscribing from ${from}` };
    void sleep(this.#delay(this.#resubscribeAttempt++), undefined, { signal: this.#lifetime.signal }).then(
      () => void this.#queue.enqueue(() => this.#resubscribe(why)),
      () => undefined, // the source stopped meanwhile (the sleep was aborted)
    );
  }

  async #resubscribe(why: string): Promise<void> {
    if (this.#stopped()) return;
    this.#counters.resubscriptions++;
    let state: StreamState;
    try {
      state = await this.#open();
    } catch (error) {
      this.#recordError(error);
      this.#scheduleResubscribe(`${why}; the subscribe call failed: ${messageOf(error)}`, 'down');
      return;
    }
    if (this.#stopped() || state.ended) return;
    this.#lifecycle = 'subscribed';
    this.#streamProblem = undefined;
    // Not awaited: this runs inside the queue, and the flush is queued behind it.
    if (this.#failSafe.due !== undefined) void this.#queue.enqueue(() => this.#settleFailSafe());
  }

  /** Ends the server stream if the client can; false when only the server can. */
  #cancel(state: StreamState): boolean {
    try {
      return state.stream?.cancel() ?? false;
    } catch (error) {
      this.#recordError(error);
      return false;
    }
  }

  #stopped(): boolean {
    return this.#lifecycle === 'stopped';
  }

  #delay(attempt: number): number {
    return backoffDelay(attempt, this.#options.initialDelayMs, this.#options.maxDelayMs);
  }

  #recordError(error: unknown): void {
    this.#lastError = { at: new Date(this.#options.clock.now()).toISOString(), message: messageOf(error) };
  }
}

/** @see SalesforcePubSubSource */
export function salesforcePubSubSource(options: SalesforcePubSubSourceOptions): SalesforcePubSubSource {
  return new SalesforcePubSubSource(options);
}
