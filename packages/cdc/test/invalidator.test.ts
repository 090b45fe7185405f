// Longer than the usual ~400 lines: one suite per edge case of the invalidator, each needing a
// real cache to show what a reader observes; splitting them would scatter the shared set-up.

import {
  type ApplyOutcome,
  createInvalidator,
  type EntityRule,
  type InvalidationEvent,
  type InvalidationRules,
  type Invalidator,
  type InvalidatorOptions,
  normalizeSalesforceEvent,
} from '@org/cache-cdc';
import { type Cache, createCache, isCacheError } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { type ChaosStore, chaosStore, type ManualClock, manualClock } from '@org/cache-testing';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { RecentChanges } from '../src/recent-changes.js';
import {
  COMMIT_TIMESTAMP,
  cometdMessage,
  GAP_TYPES,
  ids,
  orderActivated,
  orderCreated,
  orderGap,
  orderItemDeleted,
  orderOverflow,
  ordersMerged,
  ordersWildcard,
  orderTouched,
  pubSubEvent,
} from './fixtures/salesforce-events.js';

const NOW = COMMIT_TIMESTAMP + 1_500;

interface Order {
  id: string;
  items: Array<{ id: string }>;
}

const orderRule = {
  record: (id: string) => ({ keys: [`orders:detail:${id}`], tags: [`order:${id}`] }),
  collections: { tags: ['orders:lists'] },
  all: (event: InvalidationEvent) => ({ patterns: [`orders:*`], tags: [`all:${event.entity}`] }),
} satisfies EntityRule;

const orderItemRule = {
  record: (id: string) => ({ tags: [`orderitem:${id}`] }),
  all: { tags: ['orderitems:all'] },
} satisfies EntityRule;

const rules = { Order: orderRule, OrderItem: orderItemRule } satisfies InvalidationRules;

let open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const closable of open.reverse()) await closable.close();
  open = [];
});

interface Setup {
  cache: Cache;
  clock: ManualClock;
  cdc: Invalidator;
  store: ChaosStore;
}

function setup(custom: InvalidationRules = rules, options: InvalidatorOptions = {}): Setup {
  const clock = manualClock(NOW);
  const store = chaosStore(memoryStore());
  // The chaos wrapper makes core apply deadlines: generous ones, as the machine may be slow. The
  // breaker never opens: failures are injected one by one and must not linger past the test.
  const cache = createCache({
    store,
    prefix: 'bff',
    clock,
    operationTimeout: '30s',
    breaker: { failureThreshold: 1_000 },
  });
  const cdc = createInvalidator(cache, custom, { clock, ...options });
  open.push(cache, cdc);
  return { cache, clock, cdc, store };
}

const sf = (input: unknown) => normalizeSalesforceEvent(input);

function event(overrides: Partial<InvalidationEvent> = {}): InvalidationEvent {
  return { source: 'test', entity: 'Order', ids: [ids.order1], kind: 'update', ...overrides };
}

async function cached(cache: Cache, keys: string[]): Promise<Record<string, unknown>> {
  const values = await cache.getMany(keys);
  return Object.fromEntries(keys.map((key, index) => [key, values[index]]));
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('merged and wildcard events', () => {
  it('invalidates the entries of every record id of a merged event and nothing else', async () => {
    const { cache, cdc } = setup();
    for (const id of [ids.order1, ids.order2, ids.order3, ids.order4]) {
      await cache.set(`orders:detail:${id}`, { id });
      await cache.set(`account:${id}:summary`, { id }, { tags: [`order:${id}`] });
    }

    const outcome = await cdc.apply(sf(ordersMerged));

    expect(outcome).toEqual({ status: 'applied', keys: 3, tags: 3, patterns: 0 });
    const after = await cached(cache, [
      ...[ids.order1, ids.order2, ids.order3].flatMap((id) => [
        `orders:detail:${id}`,
        `account:${id}:summary`,
      ]),
    ]);
    expect(Object.values(after).every((value) => value === undefined)).toBe(true);
    expect(await cache.get(`orders:detail:${ids.order4}`)).toEqual({ id: ids.order4 });
    expect(await cache.get(`account:${ids.order4}:summary`)).toEqual({ id: ids.order4 });
  });

  it('runs the rule for the whole entity on a wildcard id', async () => {
    const { cache, cdc } = setup();
    await cache.set('orders:detail:a', 1);
    await cache.set('orders:list:account:001', [1]);
    await cache.set('reports:orders', 2, { tags: ['all:Order'] });
    await cache.set('catalog:product:1', 'unrelated');

    const outcome = await cdc.apply(sf(ordersWildcard));

    expect(outcome).toMatchObject({ status: 'applied', patterns: 1, tags: 1 });
    expect(await cached(cache, ['orders:detail:a', 'orders:list:account:001', 'reports:orders'])).toEqual({
      'orders:detail:a': undefined,
      'orders:list:account:001': undefined,
      'reports:orders': undefined,
    });
    expect(await cache.get('catalog:product:1')).toBe('unrelated');
    expect(cdc.counters().overflows).toBe(1);
  });
});

describe('gap and overflow events', () => {
  it.each(GAP_TYPES)('invalidates the ids of a %s and counts it as a gap', async (changeType) => {
    const { cache, cdc } = setup();
    await cache.set('views:order', 1, { tags: [`order:${ids.order1}`] });
    await cache.set('views:other', 2, { tags: [`order:${ids.order2}`] });

    expect((await cdc.apply(sf(orderGap(changeType)))).status).toBe('applied');

    expect(await cache.get('views:order')).toBeUndefined();
    expect(await cache.get('views:other')).toBe(2);
    expect(cdc.counters()).toMatchObject({ gaps: 1, processed: 1, skipped: 0 });
  });

  it('never skips a gap by its fields, even when they are all ignorable', async () => {
    const { cache, cdc } = setup();
    await cache.set('views:order', 1, { tags: [`order:${ids.order1}`] });
    const outcome = await cdc.apply(event({ gap: true, fields: ['LastModifiedDate'] }));
    expect(outcome.status).toBe('applied');
    expect(await cache.get('views:order')).toBeUndefined();
  });

  it('drops the whole entity on a GAP_OVERFLOW and counts it', async () => {
    const { cache, cdc } = setup();
    await cache.set('orders:detail:a', 1);
    await cache.set('orders:list:open', [1], { tags: ['orders:lists'] });
    await cache.set('catalog:product:1', 'unrelated');

    await cdc.apply(sf(orderOverflow));

    expect(await cached(cache, ['orders:detail:a', 'orders:list:open'])).toEqual({
      'orders:detail:a': undefined,
      'orders:list:open': undefined,
    });
    expect(await cache.get('catalog:product:1')).toBe('unrelated');
    expect(cdc.counters()).toMatchObject({ overflows: 1, gaps: 1, processed: 1 });
  });
});

describe('a DELETE of a child row, which names no parent', () => {
  it('reaches the parent through the tags derived from its children', async () => {
    const { cache, cdc } = setup();
    const load = (id: string, items: string[]) =>
      cache.getOrSet<Order>(
        `orders:detail:${id}`,
        () => ({ id, items: items.map((item) => ({ id: item })) }),
        {
          tags: (order) => [`order:${order.id}`, ...order.items.map((item) => `orderitem:${item.id}`)],
        },
      );
    await load(ids.order1, [ids.item1, ids.item2]);
    await load(ids.order2, [ids.item3]);

    await cdc.apply(sf(orderItemDeleted));

    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
    expect(await cache.get(`orders:detail:${ids.order2}`)).toEqual({
      id: ids.order2,
      items: [{ id: ids.item3 }],
    });
  });

  it('awaits a rule that looks the parents up and merges what it finds', async () => {
    const parents = new Map<string, string>([[ids.item2, ids.order1]]);
    const seen: InvalidationEvent[] = [];
    const { cache, cdc } = setup({
      ...rules,
      OrderItem: {
        ...orderItemRule,
        resolve: async (change) => {
          seen.push(change);
          await new Promise((resolve) => setImmediate(resolve));
          const itemIds = change.ids === '*' ? [] : change.ids;
          return { tags: itemIds.flatMap((id) => (parents.has(id) ? [`order:${parents.get(id)}`] : [])) };
        },
      },
    });
    await cache.set('orders:summary:1', 'one', { tags: [`order:${ids.order1}`] });
    await cache.set('orders:summary:2', 'two', { tags: [`order:${ids.order2}`] });

    const outcome = await cdc.apply(sf(orderItemDeleted));

    expect(outcome).toMatchObject({ status: 'applied', tags: 2 }); // orderitem:<id> and order:<parent>
    expect(seen.map((change) => change.kind)).toEqual(['delete']);
    expect(await cache.get('orders:summary:1')).toBeUndefined();
    expect(await cache.get('orders:summary:2')).toBe('two');
  });
});

describe('collections and cached "not found"', () => {
  async function seed(cache: Cache) {
    await cache.set('orders:list:account:001', [ids.order1], { tags: ['orders:lists'] });
    await cache.set(`orders:detail:${ids.order4}`, null, { tags: [`order:${ids.order4}`] });
    expect(await cache.get(`orders:detail:${ids.order4}`)).toBeNull();
  }

  it.each([
    ['CREATE', () => sf(orderCreated)],
    [
      'UNDELETE',
      () => sf(pubSubEvent({ changeType: 'UNDELETE', recordIds: [ids.order4], values: { Status: 'Draft' } })),
    ],
    ['DELETE', () => sf(pubSubEvent({ changeType: 'DELETE', recordIds: [ids.order4] }))],
  ])('a %s drops the lists and the cached null of the id', async (_, make) => {
    const { cache, cdc } = setup();
    await seed(cache);
    await cdc.apply(make());
    expect(await cache.get('orders:list:account:001')).toBeUndefined();
    expect(await cache.get(`orders:detail:${ids.order4}`)).toBeUndefined();
  });

  it('an UPDATE keeps the lists', async () => {
    const { cache, cdc } = setup();
    await seed(cache);
    await cache.set(`orders:detail:${ids.order1}`, { id: ids.order1 });
    await cdc.apply(sf(orderActivated));
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
    expect(await cache.get('orders:list:account:001')).toEqual([ids.order1]);
  });
});

describe('changed fields', () => {
  it('skips an UPDATE of system fields only, and counts it', async () => {
    const { cache, cdc } = setup();
    await cache.set(`orders:detail:${ids.order1}`, 'kept');
    expect(await cdc.apply(sf(orderTouched))).toEqual({ status: 'skipped', keys: 0, tags: 0, patterns: 0 });
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBe('kept');
    expect(cdc.counters()).toMatchObject({ skipped: 1, processed: 0 });
  });

  it('applies an UPDATE that touched a real field', async () => {
    const { cache, cdc } = setup();
    await cache.set(`orders:detail:${ids.order1}`, 'stale');
    expect((await cdc.apply(sf(orderActivated))).status).toBe('applied');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
  });

  it.each(['create', 'delete', 'undelete'] as const)(
    'never skips a %s, whatever its fields',
    async (kind) => {
      const { cache, cdc } = setup();
      await cache.set(`orders:detail:${ids.order1}`, 'stale');
      const outcome = await cdc.apply(event({ kind, fields: ['LastModifiedDate', 'SystemModstamp'] }));
      expect(outcome.status).toBe('applied');
      expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
    },
  );

  it('applies an UPDATE whose fields came as undecoded bitmaps', async () => {
    const { cache, cdc } = setup();
    await cache.set(`orders:detail:${ids.order1}`, 'stale');
    const bitmaps = pubSubEvent({ changeType: 'UPDATE', recordIds: [ids.order1], changedFields: ['0x1A'] });
    expect((await cdc.apply(sf(bitmaps))).status).toBe('applied');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
  });

  it('never skips for a rule with ignoreFields: []', async () => {
    const { cache, cdc } = setup({ Order: { ...orderRule, ignoreFields: [] } });
    await cache.set(`orders:detail:${ids.order1}`, 'stale');
    expect((await cdc.apply(sf(orderTouched))).status).toBe('applied');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
  });

  it("uses the invalidator's ignoreFields for rules without their own", async () => {
    const { cdc } = setup(rules, { ignoreFields: ['Description'] });
    expect((await cdc.apply(event({ fields: ['Description'] }))).status).toBe('skipped');
    expect((await cdc.apply(event({ fields: ['LastModifiedDate'] }))).status).toBe('applied');
  });
});

describe('re-deliveries', () => {
  it('applies a change once when it comes again with another replay id', async () => {
    const { cache, cdc } = setup();
    await cdc.apply(sf(orderActivated));
    await cache.set(`orders:detail:${ids.order1}`, 'fresh after the change');

    const again = await cdc.apply(sf({ ...orderActivated, replayId: 18_099_000 }));

    expect(again.status).toBe('duplicate');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBe('fresh after the change');
    expect(cdc.counters()).toMatchObject({ processed: 1, duplicates: 1 });
  });

  it('applies an event once by its replay id when it has no transaction key', async () => {
    const { cdc } = setup();
    const noKey = cometdMessage({
      changeType: 'UPDATE',
      recordIds: [ids.order1],
      replayId: 77,
      changedFields: ['Status'],
    });
    (noKey.data.payload.ChangeEventHeader as { transactionKey: unknown }).transactionKey = null;
    expect((await cdc.apply(sf(noKey))).status).toBe('applied');
    expect((await cdc.apply(sf(noKey.data))).status).toBe('duplicate');
  });

  it('applies two changes that share a replay id on two channels', async () => {
    const { cache, cdc } = setup();
    await cache.set('views:order', 1, { tags: [`order:${ids.order1}`] });
    await cache.set('views:item', 2, { tags: [`orderitem:${ids.item1}`] });
    // Replay ids are unique per channel only: /data/OrderChangeEvent and /data/OrderItemChangeEvent.
    const order = cometdMessage({
      changeType: 'UPDATE',
      recordIds: [ids.order1],
      replayId: 500,
      changedFields: ['Status'],
    });
    const item = cometdMessage({
      entityName: 'OrderItem',
      changeType: 'UPDATE',
      recordIds: [ids.item1],
      replayId: 500,
      transactionKey: '0002c8d0-7f80-91a2-3d4e-5f6a7b8c9da5',
      changedFields: ['Quantity'],
    });
    expect((await cdc.apply(sf(order))).status).toBe('applied');
    expect((await cdc.apply(sf(item))).status).toBe('applied');
    expect(await cache.get('views:item')).toBeUndefined();
  });

  it('applies a change once when two deliveries arrive at once', async () => {
    const { cdc } = setup();
    const outcomes = await Promise.all([
      cdc.apply(sf(orderActivated)),
      cdc.apply(sf({ ...orderActivated, replayId: 9 })),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['applied', 'duplicate']);
    expect(cdc.counters()).toMatchObject({ processed: 1, duplicates: 1 });
  });

  it('retries a change once when its first attempt fails while two more deliveries wait', async () => {
    const attempts = [deferred(), deferred()];
    let calls = 0;
    const { cdc } = setup({
      Order: { ...orderRule, resolve: () => attempts[calls++]?.promise.then(() => ({})) ?? {} },
    });
    const deliveries = [0, 1, 2].map((replayId) => cdc.apply(sf({ ...orderActivated, replayId })));
    const settled = Promise.allSettled(deliveries);
    attempts[0]?.reject(new Error('index lookup failed'));
    await new Promise((resolve) => setImmediate(resolve));
    attempts[1]?.resolve();
    const results = await settled;

    expect(
      results.map((result) => (result.status === 'fulfilled' ? result.value.status : 'rejected')),
    ).toEqual(['rejected', 'applied', 'duplicate']);
    expect(calls).toBe(2);
  });

  it('remembers at most dedupeCapacity changes, forgetting the oldest first', async () => {
    const { cdc } = setup({ Order: { record: () => ({}), all: {} } }, { dedupeCapacity: 100 });
    const change = (index: number) => event({ changeId: `tx-${index}:1`, position: String(index) });
    for (let index = 0; index < 100; index++) await cdc.apply(change(index));
    expect((await cdc.apply(change(0))).status).toBe('duplicate');

    await cdc.apply(change(100));
    expect((await cdc.apply(change(0))).status).toBe('applied');
  });

  it('stays bounded over 10,000 distinct changes', async () => {
    const { cdc } = setup({ Order: { record: () => ({}), all: {} } }, { dedupeCapacity: 100 });
    const change = (index: number) => event({ changeId: `tx-${index}:1`, position: String(index) });
    for (let index = 0; index < 10_000; index++) await cdc.apply(change(index));

    for (let index = 9_999; index >= 9_900; index--)
      expect((await cdc.apply(change(index))).status).toBe('duplicate');
    expect((await cdc.apply(change(9_899))).status).toBe('applied');
    expect((await cdc.apply(change(0))).status).toBe('applied');
    expect(cdc.counters()).toMatchObject({ processed: 10_002, duplicates: 100 });
  });

  it('keeps its memory of changes at its capacity', () => {
    const recent = new RecentChanges(100);
    for (let index = 0; index < 10_000; index++) recent.add(`change-${index}`);
    expect(recent.size).toBe(100);
    expect(recent.has('change-9900')).toBe(true);
    expect(recent.has('change-9899')).toBe(false);
  });
});

describe('events the invalidator cannot use', () => {
  it('ignores an entity with no rule, and counts it', async () => {
    const { cache, cdc } = setup();
    await cache.set('accounts:1', 'kept', { tags: [`order:${ids.account}`] });
    const outcome = await cdc.apply(event({ entity: 'Account', ids: [ids.account] }));
    expect(outcome).toEqual({ status: 'ignored', keys: 0, tags: 0, patterns: 0 });
    expect(await cache.get('accounts:1')).toBe('kept');
    expect(cdc.counters()).toMatchObject({ ignored: 1, processed: 0 });
  });

  it('refuses malformed events with E_INVALID_EVENT, counts them, and keeps working', async () => {
    const { cache, cdc } = setup();
    await cache.set(`orders:detail:${ids.order1}`, 'kept');
    const malformed: unknown[] = [
      42,
      null,
      'Order',
      { source: 'test', ids: [ids.order1], kind: 'update' },
      event({ kind: 'upsert' as never }),
      event({ ids: [801 as never] }),
      event({ ids: [] }),
      event({ ids: 'all' as never }),
      event({ committedAt: -1 }),
      JSON.parse(`{"__proto__":${JSON.stringify(event())}}`),
    ];
    for (const input of malformed) {
      const error = await cdc.apply(input as InvalidationEvent).catch((caught: unknown) => caught);
      expect(isCacheError(error) && error.code).toBe('E_INVALID_EVENT');
    }
    expect(cdc.counters()).toMatchObject({ invalid: malformed.length, processed: 0, failed: 0 });
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBe('kept');
    expect(cdc.health().status).toBe('up');

    expect((await cdc.apply(sf(orderActivated))).status).toBe('applied');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
  });
});

describe('a store that fails during apply', () => {
  it('rejects, reports degraded until a later apply succeeds, and lets the change be retried', async () => {
    const { cache, cdc, store, clock } = setup();
    await cache.set(`orders:detail:${ids.order1}`, 'stale');
    store.chaos.set({ disconnected: true, operations: ['set', 'setMany', 'delete', 'deleteMany'] });

    const error = await cdc.apply(sf(orderActivated)).catch((caught: unknown) => caught);

    expect(isCacheError(error)).toBe(true);
    expect(cdc.counters()).toMatchObject({ failed: 1, processed: 0 });
    const degraded = cdc.health();
    expect(degraded.status).toBe('degraded');
    expect(degraded.lastError).toEqual({
      at: new Date(NOW).toISOString(),
      message: (error as Error).message,
    });
    expect((await cache.health()).checks.cdc?.status).toBe('degraded');

    store.chaos.reset();
    clock.advance('1s');
    const retry = await cdc.apply(sf(orderActivated));

    expect(retry.status).toBe('applied');
    expect(await cache.get(`orders:detail:${ids.order1}`)).toBeUndefined();
    expect(cdc.health().status).toBe('up');
    expect((await cache.health()).checks.cdc?.status).toBe('up');
    expect(cdc.counters()).toMatchObject({ failed: 1, processed: 1, duplicates: 0 });
  });
});

describe('health', () => {
  it('reports the last event, its position, its lag and the counters, also through cache.health()', async () => {
    const { cache, cdc } = setup();
    expect(cdc.health()).toMatchObject({ status: 'up', counters: { processed: 0 } });
    expect(cdc.health().lastEventAt).toBeUndefined();

    await cdc.apply(sf(ordersMerged));

    const expected = {
      status: 'up',
      lastEventAt: new Date(NOW).toISOString(),
      lastPosition: '18098171',
      lagMs: NOW - COMMIT_TIMESTAMP,
      counters: { processed: 1, keysInvalidated: 3, tagsInvalidated: 3, patternsInvalidated: 0 },
    };
    expect(cdc.health()).toMatchObject(expected);
    expect((await cache.health()).checks.cdc).toMatchObject(expected);
  });

  it('is degraded when events arrive later than maxLag after their commit', async () => {
    const { cache, cdc, clock } = setup(rules, { maxLag: '5s' });
    clock.set(COMMIT_TIMESTAMP + 10_000);
    await cdc.apply(sf(orderActivated));
    expect(cdc.health()).toMatchObject({ status: 'degraded', lagMs: 10_000 });
    expect(cdc.health().reason).toContain('10000 ms');
    expect((await cache.health()).status).toBe('degraded');
  });

  it("fails safe by running every rule's all, and records why", async () => {
    const { cache, cdc } = setup();
    await cache.set('orders:detail:a', 1);
    await cache.set('accounts:001:orders', [1], { tags: ['orders:lists'] });
    await cache.set('quotes:items', 2, { tags: ['orderitems:all'] });
    await cache.set('catalog:product:1', 'unrelated');

    await cdc.failSafe('replay id outside the retention window');

    // Each rule's `all` and its collections, since a list may hold records created meanwhile.
    expect(await cached(cache, ['orders:detail:a', 'accounts:001:orders', 'quotes:items'])).toEqual({
      'orders:detail:a': undefined,
      'accounts:001:orders': undefined,
      'quotes:items': undefined,
    });
    expect(await cache.get('catalog:product:1')).toBe('unrelated');
    expect(cdc.health().lastFailSafe).toEqual({
      at: new Date(NOW).toISOString(),
      reason: 'replay id outside the retention window',
    });
    expect(cdc.counters().failSafes).toBe(1);
  });

  it('leaves cache.health() when closed, and refuses events after', async () => {
    const { cache, cdc } = setup();
    expect(Object.keys((await cache.health()).checks)).toEqual(['cdc']);
    await cdc.close();
    await cdc.close();
    expect((await cache.health()).checks).toEqual({});
    expect(cdc.health().status).toBe('down');
    const error = await cdc.apply(sf(orderActivated)).catch((caught: unknown) => caught);
    expect(isCacheError(error) && error.code).toBe('E_CLOSED');
    // The name is free again.
    open.push(createInvalidator(cache, rules));
  });
});

describe('construction', () => {
  it('refuses bad rules and options, and a name already in cache.health()', () => {
    const { cache } = setup();
    const code = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isCacheError(error) ? error.code : 'not a CacheError';
      }
      return 'no error';
    };
    // @ts-expect-error: a rule needs an `all` plan.
    const noAll: InvalidationRules = { Order: { record: orderRule.record } };
    expect(code(() => createInvalidator(cache, noAll, { name: 'a' }))).toBe('E_INVALID_OPTION');
    expect(code(() => createInvalidator(cache, rules, { name: 'b', dedupeCapacity: 0 }))).toBe(
      'E_INVALID_OPTION',
    );
    expect(code(() => createInvalidator(cache, rules))).toBe('E_INVALID_OPTION');
  });

  it('types what apply resolves to', () => {
    expectTypeOf<ApplyOutcome['status']>().toEqualTypeOf<'applied' | 'ignored' | 'skipped' | 'duplicate'>();
    expectTypeOf<Invalidator['apply']>().parameter(0).toEqualTypeOf<InvalidationEvent>();
  });
});
