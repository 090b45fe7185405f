import type { CallbackPubSubClient, SubscribeCallback } from './client-shapes.js';
import type { StreamListener, TopicStream, TopicStreams } from './topic-stream.js';

/**
 * Subscriptions on a v5 client. The client keeps one gRPC stream per topic and, when a topic is
 * subscribed again before its stream ended, reuses the stream and the FIRST callback. So this
 * keeps one callback per topic that forwards to whichever listener is current.
 */
export function callbackStreams(client: CallbackPubSubClient): TopicStreams {
  const listeners = new Map<string, StreamListener>();
  const callbacks = new Map<string, SubscribeCallback>();

  const callbackFor = (topic: string): SubscribeCallback => {
    let callback = callbacks.get(topic);
    if (!callback) {
      callback = (subscription, callbackType, data) => {
        const listener = listeners.get(topic);
        if (listener) dispatch(listener, subscription, callbackType, data);
      };
      callbacks.set(topic, callback);
    }
    return callback;
  };

  return {
    api: 'callback',
    async open(topic, from, numRequested, listener) {
      listeners.set(topic, listener);
      try {
        if (from.kind === 'latest') client.subscribe(topic, callbackFor(topic), numRequested);
        else client.subscribeFromReplayId(topic, callbackFor(topic), numRequested, from.replayId);
      } catch (error) {
        if (listeners.get(topic) === listener) listeners.delete(topic);
        throw error;
      }
      const stream: TopicStream = {
        requestMore: (count) => {
          client.requestAdditionalEvents(topic, count);
        },
        cancel: () => {
          if (typeof client.unsubscribe !== 'function') return false;
          client.unsubscribe(topic);
          return true;
        },
        detach: () => {
          if (listeners.get(topic) === listener) listeners.delete(topic);
        },
      };
      return stream;
    },
  };
}

function dispatch(
  listener: StreamListener,
  subscription: { lastReplayId?: unknown } | undefined,
  callbackType: string,
  data: unknown,
): void {
  switch (String(callbackType).toLowerCase()) {
    case 'event':
      listener.event(data);
      return;
    case 'lastevent':
      listener.lastEvent();
      return;
    case 'error':
      listener.error(data);
      return;
    case 'end':
      listener.end();
      return;
    case 'grpckeepalive': {
      // Released v5 clients pass no data with a keepalive; the subscription info has the id.
      const keepalive = (data ?? {}) as { latestReplayId?: unknown; pendingNumRequested?: unknown };
      const pending = keepalive.pendingNumRequested;
      listener.keepalive(
        keepalive.latestReplayId ?? subscription?.lastReplayId,
        typeof pending === 'number' ? pending : undefined,
      );
      return;
    }
    default:
      // grpcStatus: the status of a stream whose 'end' or 'error' follows.
      return;
  }
}
