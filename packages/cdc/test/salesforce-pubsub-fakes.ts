// Fakes of `salesforce-pubsub-api-client` (an external SaaS client) for the salesforce-pubsub
// tests, and the cache they run against (the real memory store on a manual clock).
import { EventEmitter } from 'node:events';
import {
  type CallbackSubscriptionInfo,
  createInvalidator,
  type SubscribeCallback,
  salesforcePubSubSource,
} from '@org/cache-cdc';
import { type CacheStore, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { manualClock } from '@org/cache-testing';
import { expect, vi } from 'vitest';

export const TOPIC = '/data/OrderChangeEvent';

export interface SubscribeCall {
  method: 'subscribe' | 'subscribeFromReplayId';
  topic: string;
  numRequested: number | null;
  replayId?: unknown;
}

/**
 * The v5 API. Like the real client, it keeps one subscription per topic until its stream ends:
 * subscribing again before that reuses the stream and the FIRST callback.
 */
export class FakeCallbackClient {
  readonly calls: SubscribeCall[] = [];
  readonly requests: { topic: string; numRequested: number }[] = [];
  readonly info: CallbackSubscriptionInfo = { topicName: TOPIC, lastReplayId: null };
  #callback: SubscribeCallback | undefined;

  subscribe(
    topicName: string,
    subscribeCallback: SubscribeCallback,
    numRequested: number | null = null,
  ): void {
    this.#subscribed({ method: 'subscribe', topic: topicName, numRequested }, subscribeCallback);
  }

  subscribeFromReplayId(
    topicName: string,
    subscribeCallback: SubscribeCallback,
    numRequested: number | null,
    replayId: number | bigint | string,
  ): void {
    const call: SubscribeCall = { method: 'subscribeFromReplayId', topic: topicName, numRequested, replayId };
    this.#subscribed(call, subscribeCallback);
  }

  subscribeFromEarliestEvent(_topicName: string, _callback: SubscribeCallback, _numRequested = null): void {
    throw new Error('the source never replays the whole retention window');
  }

  requestAdditionalEvents(topicName: string, numRequested: number): void {
    if (!this.#callback) throw new Error(`no active subscription found for ${topicName}`);
    this.requests.push({ topic: topicName, numRequested });
  }

  /** What the client would pass to the callback. */
  send(callbackType: string, data?: unknown): void {
    this.#callback?.(this.info, callbackType, data);
    if (callbackType === 'end') this.#callback = undefined;
  }

  event(raw: unknown): void {
    this.send('event', raw);
  }

  /** As released v5 clients do: no data, the id in the subscription info. */
  keepalive(latestReplayId: unknown): void {
    this.info.lastReplayId = latestReplayId;
    this.send('grpcKeepAlive');
  }

  #subscribed(call: SubscribeCall, callback: SubscribeCallback): void {
    this.calls.push(call);
    this.#callback ??= callback;
  }
}

/** The v4 API: each subscribe call resolves to a new emitter. */
export class FakeEmitterClient {
  readonly calls: SubscribeCall[] = [];
  readonly requests: { emitter: EventEmitter; numRequested: number }[] = [];
  readonly emitters: EventEmitter[] = [];

  async subscribe(topicName: string, numRequested: number | null = null): Promise<EventEmitter> {
    return this.#subscribed({ method: 'subscribe', topic: topicName, numRequested });
  }

  async subscribeFromReplayId(
    topicName: string,
    numRequested: number | null,
    replayId: number | bigint | string,
  ): Promise<EventEmitter> {
    return this.#subscribed({ method: 'subscribeFromReplayId', topic: topicName, numRequested, replayId });
  }

  requestAdditionalEvents(emitter: EventEmitter, numRequested: number): void {
    this.requests.push({ emitter, numRequested });
  }

  get latest(): EventEmitter {
    const emitter = this.emitters.at(-1);
    if (!emitter) throw new Error('not subscribed');
    return emitter;
  }

  #subscribed(call: SubscribeCall): EventEmitter {
    this.calls.push(call);
    const emitter = new EventEmitter();
    this.emitters.push(emitter);
    return emitter;
  }
}

/** A decoded Order change event, as the client hands it over. */
export function orderChange(replayId: unknown, orderId: string, commitTimestamp?: number): unknown {
  return {
    replayId,
    payload: {
      ChangeEventHeader: {
        entityName: 'Order',
        recordIds: [orderId],
        changeType: 'UPDATE',
        changedFields: ['Status'],
        transactionKey: `tx-${String(replayId)}`,
        sequenceNumber: 1,
        commitTimestamp: commitTimestamp ?? null,
      },
      Status: 'Activated',
    },
  };
}

/** A process: a cache on `store` (shared across "restarts") and an invalidator over it. */
export function createProcess(
  store: CacheStore = memoryStore(),
  clock = manualClock(Date.parse('2024-06-03T08:00:00Z')),
) {
  // The breaker would fail calls fast after the injected failures; these tests are about the source.
  const cache = createCache({ store, clock, prefix: 'bff', breaker: { failureThreshold: 1_000_000 } });
  const cdc = createInvalidator(
    cache,
    {
      Order: { record: (id) => ({ keys: [`orders:detail:${id}`] }), all: { patterns: ['orders:*'] } },
      Product2: { record: (id) => ({ keys: [`catalog:product:${id}`] }), all: { patterns: ['catalog:*'] } },
    },
    { clock },
  );
  return { store, clock, cache, cdc };
}

/** One entry per ruled entity, and one no rule covers. */
export async function fillCache(cache: ReturnType<typeof createProcess>['cache']): Promise<void> {
  await cache.set('orders:detail:801', { status: 'Draft' }, { ttl: '1h' });
  await cache.set('catalog:product:01t1', { name: 'Widget' }, { ttl: '1h' });
  await cache.set('billing:invoice:7', { total: 10 }, { ttl: '1h' });
}

/** Waits until the assertion holds (asynchronous work settles); never asserts on time. */
export function eventually(assertion: () => unknown | Promise<unknown>): Promise<unknown> {
  return vi.waitFor(assertion, { timeout: 5_000, interval: 1 });
}

export const FAST_RETRY = { initialDelay: 0, maxDelay: 0 } as const;

type SourceOptions = Parameters<typeof salesforcePubSubSource>[0];

/** A source for `process`'s cache and clock over `client`, retrying at once unless `extra` says otherwise. */
export function sourceFor(
  process: ReturnType<typeof createProcess>,
  client: SourceOptions['client'],
  extra: Partial<SourceOptions> = {},
) {
  return salesforcePubSubSource({
    client,
    topic: TOPIC,
    cache: process.cache,
    clock: process.clock,
    retry: FAST_RETRY,
    ...extra,
  });
}

export function expectSubscribed(calls: readonly SubscribeCall[], expected: Partial<SubscribeCall>[]): void {
  expect(calls).toEqual(expected.map((call) => expect.objectContaining(call)));
}
