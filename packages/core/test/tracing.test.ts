import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  type Cache,
  type CacheError,
  type CacheEvent,
  cacheChannels,
  cacheTracingChannels,
  createCache,
  type FetchTraceMessage,
  type StoreTraceMessage,
  ttl,
} from '@org/cache-core';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred, thrownBy } from './support/helpers.js';
import { faultyStore } from './support/stores.js';

type Phase = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';
interface Seen<M> {
  phase: Phase;
  message: M;
  /** What the caller's AsyncLocalStorage held when the event was published. */
  caller: string | undefined;
}

const callers = new AsyncLocalStorage<string>();
const cleanups: Array<() => void> = [];
const open: Cache[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await Promise.all(open.splice(0).map((cache) => cache.close()));
});

function listen<M extends object>(name: string): Array<Seen<M>> {
  const seen: Array<Seen<M>> = [];
  const channel = diagnosticsChannel.tracingChannel<unknown, M>(name);
  const on = (phase: Phase) => (message: M) => seen.push({ phase, message, caller: callers.getStore() });
  const handlers = {
    start: on('start'),
    end: on('end'),
    asyncStart: on('asyncStart'),
    asyncEnd: on('asyncEnd'),
    error: on('error'),
  };
  channel.subscribe(handlers);
  cleanups.push(() => channel.unsubscribe(handlers));
  return seen;
}

let sequence = 0;
function cache(
  options: { name?: string; store?: Map<string, unknown> | ReturnType<typeof faultyStore> } = {},
) {
  const created = createCache({
    store: options.store ?? new Map(),
    prefix: `tr${++sequence}`,
    strategy: ttl('1m'),
    ...(options.name === undefined ? {} : { name: options.name }),
  });
  open.push(created);
  return created;
}

describe('the name option', () => {
  it('defaults to the prefix and names the cache in stats and events', async () => {
    const unnamed = cache();
    expect(unnamed.name).toBe(unnamed.prefix);
    const named = cache({ name: 'catalog' });
    expect(named.name).toBe('catalog');
    expect(named.stats().name).toBe('catalog');
    const events: CacheEvent[] = [];
    const listener = (event: unknown) => events.push(event as CacheEvent);
    diagnosticsChannel.subscribe(cacheChannels.miss, listener);
    cleanups.push(() => diagnosticsChannel.unsubscribe(cacheChannels.miss, listener));
    await named.get('nothing');
    await unnamed.get('nothing');
    expect(events.map((event) => event.cache)).toEqual(['catalog', unnamed.prefix]);
  });

  it('refuses an empty name', () => {
    const error = thrownBy(() => createCache({ store: new Map(), name: '' })) as CacheError;
    expect(error.code).toBe('E_INVALID_OPTION');
    expect(error.message).toContain('name');
  });
});

describe('the fetch tracing channel', () => {
  it('starts in the caller async context and ends when the fetch settles', async () => {
    const seen = listen<FetchTraceMessage>(cacheTracingChannels.fetch);
    const subject = cache({ name: 'traced' });
    const orders = subject.domain('orders', { buckets: { detail: {} } });
    const value = await callers.run('first caller', () => orders.buckets.detail.getOrSet('801', () => 42));
    expect(value).toBe(42);
    expect(seen.map((event) => event.phase)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    const start = seen[0] as Seen<FetchTraceMessage>;
    expect(start.caller).toBe('first caller');
    expect(start.message).toMatchObject({ cache: 'traced', domain: 'orders', bucket: 'detail' });
    expect(start.message.key).toBe(`${subject.prefix}:orders:detail:801`);
    expect(typeof start.message.flight).toBe('object');
  });

  it('publishes the error of a failed fetch', async () => {
    const seen = listen<FetchTraceMessage>(cacheTracingChannels.fetch);
    const subject = cache();
    const failure = new Error('upstream down');
    await expect(
      subject.getOrSet('k', () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(seen.map((event) => event.phase)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(seen[2]?.message.error).toBe(failure);
  });

  it('traces a batch fetch once, naming the flight of every key it was asked', async () => {
    const seen = listen<FetchTraceMessage>(cacheTracingChannels.fetch);
    const joins = listen<FetchTraceMessage>(cacheTracingChannels.coalesced);
    const subject = cache();
    await subject.set('cached', 0);
    const gate = deferred<void>();
    const batch = callers.run('batch', () =>
      subject.getManyOrSet(['cached', 'a', 'b'], async (keys) => {
        await gate.promise;
        return keys.map((key) => key.toUpperCase());
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const joiner = subject.getOrSet('b', () => 'never');
    gate.resolve();
    expect(await batch).toEqual([0, 'A', 'B']);
    expect(await joiner).toBe('B');
    const starts = seen.filter((event) => event.phase === 'start');
    expect(starts).toHaveLength(1);
    expect(starts[0]?.caller).toBe('batch');
    expect(starts[0]?.message.key).toBe(`${subject.prefix}:a`);
    expect(starts[0]?.message.flights).toHaveLength(2);
    expect(starts[0]?.message.flights).toContain(joins[0]?.message.flight);
  });

  it('is not entered by a hit', async () => {
    const seen = listen<FetchTraceMessage>(cacheTracingChannels.fetch);
    const subject = cache();
    await subject.set('k', 1);
    expect(await subject.getOrSet('k', () => 2)).toBe(1);
    expect(seen).toEqual([]);
  });
});

describe('the coalesced tracing channel', () => {
  it('gives each joining caller, in its own context, the flight of the fetch it waits on', async () => {
    const fetches = listen<FetchTraceMessage>(cacheTracingChannels.fetch);
    const joins = listen<FetchTraceMessage>(cacheTracingChannels.coalesced);
    const subject = cache();
    const gate = deferred<string>();
    const first = callers.run('first', () => subject.getOrSet('k', () => gate.promise));
    const second = callers.run('second', () => subject.getOrSet('k', () => 'never'));
    const third = callers.run('third', () => subject.getOrSet('k', () => 'never'));
    expect(joins.filter((event) => event.phase === 'start').map((event) => event.caller)).toEqual([
      'second',
      'third',
    ]);
    expect(joins.some((event) => event.phase === 'asyncEnd')).toBe(false);
    gate.resolve('v');
    expect(await Promise.all([first, second, third])).toEqual(['v', 'v', 'v']);
    const flight = fetches[0]?.message.flight;
    expect(flight).toBeDefined();
    for (const join of joins) expect(join.message.flight).toBe(flight);
    expect(joins.filter((event) => event.phase === 'asyncEnd')).toHaveLength(2);
    expect(fetches.filter((event) => event.phase === 'start')).toHaveLength(1);
  });
});

describe('the store tracing channel', () => {
  it('wraps each store operation with the cache and store names', async () => {
    const seen = listen<StoreTraceMessage>(cacheTracingChannels.store);
    const store = faultyStore();
    const subject = cache({ name: 'stored', store });
    await subject.set('k', 1);
    await subject.get('k');
    const starts = seen.filter((event) => event.phase === 'start').map((event) => event.message);
    expect(starts.map((message) => message.operation)).toEqual(['set', 'get']);
    for (const message of starts)
      expect(message).toMatchObject({ cache: 'stored', store: expect.any(String) });
    store.mode = 'fail';
    await subject.get('k');
    const error = seen.find((event) => event.phase === 'error');
    expect((error?.message.error as CacheError | undefined)?.code).toMatch(/^E_STORE/);
  });

  it('costs nothing once nobody listens', async () => {
    const seen = listen<StoreTraceMessage>(cacheTracingChannels.store);
    for (const cleanup of cleanups.splice(0)) cleanup();
    expect(diagnosticsChannel.tracingChannel(cacheTracingChannels.store).hasSubscribers).toBe(false);
    const subject = cache({ store: faultyStore() });
    await subject.set('k', 1);
    expect(seen).toEqual([]);
  });
});
