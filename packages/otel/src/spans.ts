import diagnosticsChannel from 'node:diagnostics_channel';
import {
  context,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
} from '@opentelemetry/api';
import { cacheTracingChannels, type FetchTraceMessage, type StoreTraceMessage } from '@org/cache-core';
import { ATTRIBUTE, bucketAttributes } from './attributes.js';

export type SpanLevel = 'fetches' | 'all';

interface Handlers<M> {
  start: (message: M) => void;
  end: (message: M) => void;
  asyncStart: (message: M) => void;
  asyncEnd: (message: M) => void;
  error: (message: M) => void;
}

/**
 * Spans from core's tracing channels. Each span opens on `start`, which core publishes in the
 * caller's async context, so the active span there (an HTTP request's, say) is its parent.
 * `cache.fetch`: one per fetcher run. `cache.coalesced`: one per caller that joined a fetch in
 * flight, linked to that fetch's span. `cache.store.<operation>`: with `level: 'all'` only.
 * Returns the function that unsubscribes.
 */
export function registerSpans(tracer: Tracer, cacheName: string, level: SpanLevel): () => void {
  const open = new WeakMap<object, Span>();
  // The fetch span of each flight, for the links of callers that join it; and callers that
  // joined before the fetch started (while the flight was still reading the store).
  const fetchOfFlight = new WeakMap<object, SpanContext>();
  const waitingForFetch = new WeakMap<object, Span[]>();

  const finish = (message: object) => {
    open.get(message)?.end();
    open.delete(message);
  };
  const fail = (message: { error?: unknown }) => {
    const span = open.get(message);
    if (span === undefined) return;
    const error = message.error;
    if (error instanceof Error) span.recordException(error);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  };
  const ignore = () => {};

  const fetches: Handlers<FetchTraceMessage> = {
    start(message) {
      if (message.cache !== cacheName) return;
      const span = tracer.startSpan(
        'cache.fetch',
        { kind: SpanKind.INTERNAL, attributes: bucketAttributes(cacheName, message.domain, message.bucket) },
        context.active(),
      );
      open.set(message, span);
      const spanContext = span.spanContext();
      // A batch fetch (getManyOrSet) is one span for the flights of all the keys it was asked.
      for (const flight of message.flights ?? [message.flight]) {
        fetchOfFlight.set(flight, spanContext);
        for (const waiter of waitingForFetch.get(flight) ?? []) waiter.addLink({ context: spanContext });
        waitingForFetch.delete(flight);
      }
    },
    end: ignore,
    asyncStart: ignore,
    asyncEnd: finish,
    error: fail,
  };
  const coalesced: Handlers<FetchTraceMessage> = {
    start(message) {
      if (message.cache !== cacheName) return;
      const fetch = fetchOfFlight.get(message.flight);
      const span = tracer.startSpan(
        'cache.coalesced',
        {
          kind: SpanKind.INTERNAL,
          attributes: bucketAttributes(cacheName, message.domain, message.bucket),
          links: fetch === undefined ? [] : [{ context: fetch }],
        },
        context.active(),
      );
      open.set(message, span);
      if (fetch === undefined) {
        const waiting = waitingForFetch.get(message.flight) ?? [];
        waiting.push(span);
        waitingForFetch.set(message.flight, waiting);
      }
    },
    end: ignore,
    asyncStart: ignore,
    asyncEnd: finish,
    error: fail,
  };
  const store: Handlers<StoreTraceMessage> = {
    start(message) {
      if (message.cache !== cacheName) return;
      const span = tracer.startSpan(
        `cache.store.${message.operation}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            [ATTRIBUTE.cache]: cacheName,
            [ATTRIBUTE.store]: message.store,
            [ATTRIBUTE.operation]: message.operation,
          },
        },
        context.active(),
      );
      open.set(message, span);
    },
    end: ignore,
    asyncStart: ignore,
    asyncEnd: finish,
    error: fail,
  };

  const subscriptions: Array<() => void> = [
    subscribe(cacheTracingChannels.fetch, fetches),
    subscribe(cacheTracingChannels.coalesced, coalesced),
  ];
  if (level === 'all') subscriptions.push(subscribe(cacheTracingChannels.store, store));
  return () => {
    for (const unsubscribe of subscriptions) unsubscribe();
  };
}

function subscribe<M extends object>(name: string, handlers: Handlers<M>): () => void {
  const channel = diagnosticsChannel.tracingChannel<unknown, M>(name);
  channel.subscribe(handlers);
  return () => channel.unsubscribe(handlers);
}
