/**
 * The parts of `salesforce-pubsub-api-client` this package uses, typed by shape: the library is
 * not a dependency, so any object with these methods works (a fake in tests, a wrapper, a fork).
 */

/** What the client's subscribe calls accept as a replay id (both versions run `BigInt(replayId)`). */
export type ClientReplayId = number | bigint | string;

/** v5's `subscription` argument: the subscription's info, of which only these fields are read. */
export interface CallbackSubscriptionInfo {
  topicName?: string;
  /** The latest replay id the server reported, updated on every response (keepalives too). */
  lastReplayId?: unknown;
  [field: string]: unknown;
}

/**
 * v5's subscribe callback. `callbackType` is `event`, `lastEvent`, `error`, `end`, `grpcStatus` or
 * `grpcKeepAlive` (matched without regard to case).
 */
export type SubscribeCallback = (
  subscription: CallbackSubscriptionInfo,
  callbackType: string,
  data?: unknown,
) => void;

/** `salesforce-pubsub-api-client` v5: one callback per topic, no promises. */
export interface CallbackPubSubClient {
  subscribe(topicName: string, subscribeCallback: SubscribeCallback, numRequested?: number | null): unknown;
  subscribeFromReplayId(
    topicName: string,
    subscribeCallback: SubscribeCallback,
    numRequested: number | null,
    replayId: ClientReplayId,
  ): unknown;
  requestAdditionalEvents(topicName: string, numRequested: number): unknown;
  /** Not in the published client: used when present to end the topic's stream. */
  unsubscribe?(topicName: string): unknown;
}

/** The emitter v4's subscribe calls resolve to (a Node `EventEmitter`). */
export interface PubSubEmitter {
  on(eventName: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(eventName: string, listener: (...args: unknown[]) => void): unknown;
}

/** `salesforce-pubsub-api-client` v4: subscribe calls resolve to an emitter. */
export interface EmitterPubSubClient {
  subscribe(topicName: string, numRequested?: number | null): Promise<PubSubEmitter>;
  subscribeFromReplayId(
    topicName: string,
    numRequested: number | null,
    replayId: ClientReplayId,
  ): Promise<PubSubEmitter>;
  requestAdditionalEvents(emitter: PubSubEmitter, numRequested: number): unknown;
}

export type PubSubClient = CallbackPubSubClient | EmitterPubSubClient;

export type PubSubApi = 'callback' | 'emitter';

// Methods only v5 has; older v5 releases lack some, so the subscribe signature decides then.
const callbackOnlyMethods = [
  'subscribeWithManagedSubscription',
  'requestAdditionalManagedEvents',
  'commitReplayId',
  'publishBatch',
];

/**
 * Which API the client has: `callback` (v5: `subscribe(topic, callback, n)`) or `emitter` (v4:
 * `await subscribe(topic, n)`). Both name their methods alike, so the shape decides: a v5-only
 * method, else the declared parameters of `subscribe` (v5 declares the callback, v4 does not).
 * Returns undefined for anything that is not a Pub/Sub client.
 */
export function detectPubSubApi(client: unknown): PubSubApi | undefined {
  if (client === null || typeof client !== 'object') return undefined;
  const candidate = client as Record<string, unknown>;
  for (const method of ['subscribe', 'subscribeFromReplayId', 'requestAdditionalEvents']) {
    if (typeof candidate[method] !== 'function') return undefined;
  }
  if (callbackOnlyMethods.some((method) => typeof candidate[method] === 'function')) return 'callback';
  return (candidate.subscribe as (...args: unknown[]) => unknown).length >= 2 ? 'callback' : 'emitter';
}
