import {
  createInvalidator,
  type InvalidationEvent,
  type InvalidationRules,
  type Invalidator,
  inProcessSource,
  normalizeSalesforceEvent,
} from '@org/cache-cdc';
import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { manualClock } from '@org/cache-testing';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMIT_TIMESTAMP, ids, orderActivated, pubSubEvent } from './fixtures/salesforce-events.js';

const rules = {
  Order: {
    record: (id: string) => ({ keys: [`orders:detail:${id}`], tags: [`order:${id}`] }),
    all: { patterns: ['orders:*'] },
  },
} satisfies InvalidationRules;

let open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const closable of open.reverse()) await closable.close();
  open = [];
});

function setup(custom: InvalidationRules = rules): { cache: Cache; cdc: Invalidator } {
  const clock = manualClock(COMMIT_TIMESTAMP);
  const cache = createCache({ store: memoryStore(), prefix: 'bff', clock });
  const cdc = createInvalidator(cache, custom, { clock });
  open.push(cache, cdc);
  return { cache, cdc };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return isCacheError(error) ? error.code : `not a CacheError: ${String(error)}`;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('inProcessSource', () => {
  it('refuses to emit before it is started', async () => {
    const source = inProcessSource();
    expect(await rejection(source.emit(normalizeSalesforceEvent(orderActivated)))).toBe('E_CLOSED');
    expect(source.health()).toMatchObject({ status: 'down', reason: 'not started', delivered: 0 });
  });

  it('applies what it emits once subscribed, normalising Salesforce events', async () => {
    const { cache, cdc } = setup();
    const source = inProcessSource({ name: 'salesforce-dev', normalize: normalizeSalesforceEvent });
    await cdc.subscribe(source);
    await cache.set(`orders:detail:${ids.order1}`, 'stale');

    const outcome = await source.emit(orderActivated);

    expect(outcome).toEqual({ status: 'applied', keys: 1, tags: 1, patterns: 0 });
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
    expect(source.health()).toMatchObject({ status: 'up', delivered: 1 });
    expect(cdc.health().sources['salesforce-dev']).toMatchObject({ status: 'up', delivered: 1 });
  });

  it('delivers InvalidationEvents as they are by default', async () => {
    const { cache, cdc } = setup();
    const source = inProcessSource();
    await cdc.subscribe(source);
    await cache.set(`orders:detail:${ids.order2}`, 'stale');
    const event: InvalidationEvent = { source: 'dev', entity: 'Order', ids: [ids.order2], kind: 'delete' };
    expect((await source.emit(event)).status).toBe('applied');
    expect(await cache.get(`orders:detail:${ids.order2}`)).toBeUndefined();
  });

  it('rejects a malformed event with E_INVALID_EVENT and keeps delivering', async () => {
    const { cache, cdc } = setup();
    const source = inProcessSource({ normalize: normalizeSalesforceEvent });
    await cdc.subscribe(source);
    await cache.set(`orders:detail:${ids.order1}`, 'stale');

    const noIds = pubSubEvent({ changeType: 'CREATE', recordIds: [] });
    expect(await rejection(source.emit(noIds))).toBe('E_INVALID_EVENT');
    expect(await rejection(source.emit(42))).toBe('E_INVALID_EVENT');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBe('stale');
    // Refused by the source's normaliser, before apply(): still counted by the invalidator.
    expect(cdc.counters().invalid).toBe(2);
    expect(cdc.health().lastError?.message).toMatch(/not a Salesforce change event/);

    expect((await source.emit(orderActivated)).status).toBe('applied');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
  });

  it('waits for the events being applied when it stops, then refuses new ones', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const order: string[] = [];
    const { cdc } = setup({
      Order: {
        ...rules.Order,
        resolve: async () => {
          await released;
          order.push('applied');
          return {};
        },
      },
    });
    const source = inProcessSource({ normalize: normalizeSalesforceEvent });
    await cdc.subscribe(source);

    const emitted = source.emit(orderActivated);
    let stopped = false;
    const stopping = source.stop().then(() => {
      stopped = true;
      order.push('stopped');
    });
    await flush();
    expect(stopped).toBe(false);

    release();
    await stopping;
    expect((await emitted).status).toBe('applied');
    expect(order).toEqual(['applied', 'stopped']);
    expect(await rejection(source.emit(orderActivated))).toBe('E_CLOSED');
    expect(source.health().status).toBe('down');
    await source.stop(); // idempotent
  });

  it('is stopped by closing the invalidator', async () => {
    const { cdc } = setup();
    const source = inProcessSource();
    await cdc.subscribe(source);
    await cdc.close();
    expect(source.health().status).toBe('down');
    expect(await rejection(source.emit({ source: 'dev', entity: 'Order', ids: ['1'], kind: 'update' }))).toBe(
      'E_CLOSED',
    );
  });

  it('cannot be subscribed twice under one name', async () => {
    const { cdc } = setup();
    await cdc.subscribe(inProcessSource());
    expect(await rejection(cdc.subscribe(inProcessSource()))).toBe('E_INVALID_OPTION');
    await cdc.subscribe(inProcessSource({ name: 'second' }));
    expect(Object.keys(cdc.health().sources).sort()).toEqual(['in-process', 'second']);
  });
});
