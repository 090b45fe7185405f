import diagnosticsChannel from 'node:diagnostics_channel';
import type { Span } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type Cache, type CacheStore, cacheTracingChannels, createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { type InstrumentOptions, instrumentCache } from '@org/cache-otel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asyncStore, type OtelSdk, otelSdk, useAsyncContext } from './support/otel.js';

let restoreContext: () => void = () => {};
beforeAll(() => {
  restoreContext = useAsyncContext();
});
afterAll(() => restoreContext());

const open: Cache[] = [];
const stops: Array<() => void> = [];
let sdk: OtelSdk;

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await Promise.all(open.splice(0).map((cache) => cache.close()));
  await sdk?.shutdown();
});

let sequence = 0;
function setup(options: { store?: CacheStore; spans?: InstrumentOptions['spans']; name?: string } = {}) {
  sdk = otelSdk();
  const name = options.name ?? `spans${++sequence}`;
  const cache = createCache({
    store: options.store ?? memoryStore(),
    prefix: `otel-${name}`,
    name,
    strategy: ttl('1m'),
  });
  open.push(cache);
  const detail = cache.domain('orders', { buckets: { detail: {} } }).buckets.detail;
  stops.push(instrumentCache(cache, { tracerProvider: sdk.tracerProvider, spans: options.spans }));
  return { cache, detail, tracer: sdk.tracer };
}

/** Runs `work` inside an active span named `name`, as an HTTP server instrumentation would. */
function inRequest<T>(
  tracer: ReturnType<typeof setup>['tracer'],
  name: string,
  work: (span: Span) => Promise<T>,
) {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await work(span);
    } finally {
      span.end();
    }
  });
}

const named = (name: string) => sdk.spans().filter((span) => span.name === name);
const only = (name: string): ReadableSpan => {
  const spans = named(name);
  expect(spans.map((span) => span.name)).toEqual([name]);
  return spans[0] as ReadableSpan;
};

describe('instrumentCache spans', () => {
  it('opens a fetch span under the caller span, with bucket attributes and no key', async () => {
    const { detail, tracer } = setup({ name: 'shop' });
    await inRequest(tracer, 'GET /orders/:id', () => detail.getOrSet('SECRET42', () => ({ total: 1 })));
    await inRequest(tracer, 'GET /orders/:id (hit)', () => detail.getOrSet('SECRET42', () => ({ total: 2 })));
    const request = only('GET /orders/:id');
    const fetch = only('cache.fetch'); // the hit opened none
    expect(fetch.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(fetch.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(fetch.attributes).toEqual({ 'cache.name': 'shop', domain: 'orders', bucket: 'detail' });
    expect(JSON.stringify(sdk.spans().map((span) => span.attributes))).not.toContain('SECRET42');
  });

  it('marks a failed fetch as an error with its exception', async () => {
    const { detail, tracer } = setup();
    await inRequest(tracer, 'request', () =>
      expect(
        detail.getOrSet('1', () => {
          throw new Error('upstream down');
        }),
      ).rejects.toThrow('upstream down'),
    );
    const fetch = only('cache.fetch');
    expect(fetch.status).toEqual({ code: 2, message: 'upstream down' });
    expect(fetch.events.map((event) => event.name)).toEqual(['exception']);
  });

  for (const [storeName, store] of [
    ['an in-process store', () => memoryStore()],
    ['a store read asynchronously (callers join before the fetch starts)', asyncStore],
  ] as const) {
    it(`links each coalesced caller, under its own request, to the one fetch span: ${storeName}`, async () => {
      const { detail, tracer } = setup({ store: store() });
      let release: (value: number) => void = () => {};
      const upstream = new Promise<number>((resolve) => {
        release = resolve;
      });
      const calls = ['first', 'second', 'third'].map((request) =>
        inRequest(tracer, request, () => detail.getOrSet('1', () => upstream)),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      release(7);
      expect(await Promise.all(calls)).toEqual([7, 7, 7]);
      const fetch = only('cache.fetch');
      expect(fetch.parentSpanContext?.spanId).toBe(only('first').spanContext().spanId);
      const waits = named('cache.coalesced');
      expect(waits).toHaveLength(2);
      for (const request of ['second', 'third']) {
        const parent = only(request).spanContext();
        const wait = waits.find((span) => span.parentSpanContext?.spanId === parent.spanId);
        expect(wait, request).toBeDefined();
        expect(wait?.links.map((link) => link.context.spanId)).toEqual([fetch.spanContext().spanId]);
      }
    });
  }

  it('opens one fetch span for a getManyOrSet batch, and links a getOrSet caller of any of its keys to it', async () => {
    const { detail, tracer } = setup({ store: memoryStore() });
    let release: () => void = () => {};
    const upstream = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batch = inRequest(tracer, 'page', () =>
      detail.getManyOrSet(['1', '2', '3'], async (ids) => {
        await upstream;
        return ids.map(Number);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const joiner = inRequest(tracer, 'single', () => detail.getOrSet('3', () => -1));
    release();
    expect(await batch).toEqual([1, 2, 3]);
    expect(await joiner).toBe(3);
    const fetch = only('cache.fetch');
    expect(fetch.parentSpanContext?.spanId).toBe(only('page').spanContext().spanId);
    const wait = only('cache.coalesced');
    expect(wait.links.map((link) => link.context.spanId)).toEqual([fetch.spanContext().spanId]);
  });

  it("opens store operation spans only with spans: 'all'", async () => {
    const fetchesOnly = setup({ store: asyncStore() });
    await inRequest(fetchesOnly.tracer, 'request', () => fetchesOnly.detail.getOrSet('1', () => 1));
    expect(sdk.spans().filter((span) => span.name.startsWith('cache.store.'))).toEqual([]);
    for (const stop of stops.splice(0)) stop();
    await sdk.shutdown();

    const all = setup({ store: asyncStore(), spans: 'all' });
    await inRequest(all.tracer, 'request', () => all.detail.getOrSet('1', () => 1));
    const request = only('request');
    const store = sdk.spans().filter((span) => span.name.startsWith('cache.store.'));
    expect(store.map((span) => span.name)).toEqual(['cache.store.get', 'cache.store.set']);
    for (const span of store) {
      expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      expect(span.attributes).toMatchObject({
        'cache.operation': expect.any(String),
        'cache.store': expect.any(String),
      });
    }
  });

  it('opens nothing after uninstrument, and leaves no subscription behind', async () => {
    const { detail, tracer } = setup({ store: asyncStore(), spans: 'all' });
    for (const stop of stops.splice(0)) stop();
    for (const name of Object.values(cacheTracingChannels))
      expect(diagnosticsChannel.tracingChannel(name).hasSubscribers, name).toBe(false);
    await inRequest(tracer, 'request', () => detail.getOrSet('1', () => 1));
    expect(sdk.spans().map((span) => span.name)).toEqual(['request']);
  });

  it('gives each of two caches its own spans', async () => {
    const first = setup({ name: 'first' });
    const firstSdk = sdk;
    const second = setup({ name: 'second' });
    await first.detail.getOrSet('1', () => 1);
    await second.detail.getOrSet('1', () => 1);
    await second.detail.getOrSet('2', () => 1);
    const names = (spans: ReadableSpan[]) => spans.map((span) => span.attributes['cache.name']);
    expect(names(firstSdk.spans())).toEqual(['first']);
    expect(names(sdk.spans())).toEqual(['second', 'second']);
    await firstSdk.shutdown();
  });
});
