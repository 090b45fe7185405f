import type { EmitterPubSubClient, PubSubEmitter } from './client-shapes.js';
import type { TopicStream, TopicStreams } from './topic-stream.js';

/** Subscriptions on a v4 client: each subscribe call resolves to a new emitter. */
export function emitterStreams(client: EmitterPubSubClient): TopicStreams {
  return {
    api: 'emitter',
    async open(topic, from, numRequested, listener) {
      const emitter =
        from.kind === 'latest'
          ? await client.subscribe(topic, numRequested)
          : await client.subscribeFromReplayId(topic, numRequested, from.replayId);
      const handlers: Record<string, (...args: unknown[]) => void> = {
        data: (event: unknown) => listener.event(event),
        lastevent: () => listener.lastEvent(),
        keepalive: (data: unknown) => {
          const keepalive = (data ?? {}) as { latestReplayId?: unknown; pendingNumRequested?: unknown };
          const pending = keepalive.pendingNumRequested;
          listener.keepalive(keepalive.latestReplayId, typeof pending === 'number' ? pending : undefined);
        },
        error: (error: unknown) => listener.error(error),
        end: () => listener.end(),
      };
      for (const [name, handler] of Object.entries(handlers)) emitter.on(name, handler);
      return emitterStream(client, emitter, handlers);
    },
  };
}

function emitterStream(
  client: EmitterPubSubClient,
  emitter: PubSubEmitter,
  handlers: Record<string, (...args: unknown[]) => void>,
): TopicStream {
  let detached = false;
  return {
    requestMore: (count) => {
      client.requestAdditionalEvents(emitter, count);
    },
    cancel: () => false,
    detach: () => {
      if (detached) return;
      detached = true;
      // An emitter with no 'error' listener throws on 'error': a late stream error must not crash.
      emitter.on('error', ignore);
      for (const [name, handler] of Object.entries(handlers)) emitter.removeListener(name, handler);
    },
  };
}

function ignore(): void {}
