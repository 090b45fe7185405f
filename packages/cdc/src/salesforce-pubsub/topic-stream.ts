import type { ClientReplayId, PubSubApi } from './client-shapes.js';

/** What one subscription reports, whatever the client's API. */
export interface StreamListener {
  /** A decoded event (`{ replayId, payload }`), not yet checked. */
  event(raw: unknown): void;
  /** The requested events were all delivered: nothing more arrives until more are requested. */
  lastEvent(): void;
  /** The server has no event to send; `latestReplayId` is the newest in the topic. */
  keepalive(latestReplayId: unknown, pendingNumRequested: number | undefined): void;
  /** A stream error, or an event the client could not decode (see `isEventParseError`). */
  error(error: unknown): void;
  /** The stream is over: nothing more arrives on it. */
  end(): void;
}

export type StartFrom = { kind: 'latest' } | { kind: 'replay'; replayId: ClientReplayId };

/** One open subscription to a topic. */
export interface TopicStream {
  /** Flow control: asks the server for `count` more events. */
  requestMore(count: number): void;
  /** Ends the server stream when the client can; false when only the server can end it. */
  cancel(): boolean;
  /** Stops reporting to the listener (the client keeps its own resources). */
  detach(): void;
}

/** Opens subscriptions on one client; chosen once, from the client's shape. */
export interface TopicStreams {
  readonly api: PubSubApi;
  open(topic: string, from: StartFrom, numRequested: number, listener: StreamListener): Promise<TopicStream>;
}
