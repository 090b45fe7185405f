import { createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { measure } from '@org/cache-test-support';
import { chaosStore } from '@org/cache-testing';
import { createClient } from '@redis/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createInvalidator,
  type InvalidationEvent,
  type RedisStreamPublisherOptions,
  type RedisStreamSourceOptions,
  redisStreamPublisher,
  redisStreamSource,
} from '../src/index.js';
import {
  orderEvent,
  pendingByConsumer,
  pendingCount,
  raw,
  recordingContext,
  StreamFixtures,
  waitFor,
} from './support/streams.js';

// The Redis Streams source and publisher on the shared Redis (REDIS_URL or 127.0.0.1:6379), one
// stream and group per test. Tests that stop or restart Redis are in redis-stream-failures.test.ts.

const fixtures = new StreamFixtures();
afterEach(() => fixtures.close());
afterAll(() => fixtures.cleanUp());

const fast = { block: 100, claimIdle: 300, claimInterval: 100, retryDelay: 50, maxRetryDelay: 200 } as const;

describe('redisStreamPublisher', () => {
  it('appends one entry holding the event as JSON and returns its stream id', async () => {
    const stream = fixtures.stream('publish');
    const publisher = fixtures.publisher({ stream });
    const event = orderEvent('801', { fields: ['Status'] });
    const id = await publisher.append(event);
    expect(id).toMatch(/^\d+-\d+$/);
    const entries = (await raw(fixtures.url, ['XRANGE', stream, '-', '+'])) as Array<[string, string[]]>;
    expect(entries).toHaveLength(1);
    const [entryId, [field, json]] = entries[0] as [string, [string, string]];
    expect([entryId, field]).toEqual([id, 'event']);
    expect(JSON.parse(json)).toEqual(event);
  });

  it('refuses a malformed event with E_INVALID_EVENT before touching Redis', async () => {
    const stream = fixtures.stream('publish-invalid');
    const publisher = fixtures.publisher({ stream });
    const bad = {
      source: 'salesforce',
      entity: 'Order',
      ids: [],
      kind: 'update',
    } as unknown as InvalidationEvent;
    await expect(publisher.append(bad)).rejects.toMatchObject({ code: 'E_INVALID_EVENT' });
    expect(await raw(fixtures.url, ['EXISTS', stream])).toBe(0);
  });

  it('caps the stream at about maxLen entries', async () => {
    const stream = fixtures.stream('publish-cap');
    const publisher = fixtures.publisher({ stream, maxLen: 10 });
    for (let index = 0; index < 350; index++) await publisher.append(orderEvent(`o${index}`));
    // MAXLEN ~ trims whole nodes (100 entries by default): less than 350 remain, at least 10.
    const length = Number(await raw(fixtures.url, ['XLEN', stream]));
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(350);
  });

  it('refuses bad options synchronously', () => {
    expect(() => fixtures.publisher({ stream: '' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => fixtures.publisher({ stream: 's', maxLen: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => fixtures.source({ stream: 's', group: 'g', consumer: '' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => fixtures.source({ stream: 's', group: 'g', consumer: 'c', claimIdle: 0 })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => fixtures.source({ stream: 's', group: 'g', consumer: 'c', url: 'http://x' })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
  });

  it('refuses to guess where Redis is: no url and no client is E_INVALID_OPTION, never localhost', () => {
    const noServer = expect.objectContaining({
      code: 'E_INVALID_OPTION',
      message: expect.stringMatching(
        /^redis stream: give one of url, client, cluster or sentinel \(there is no default server\)/,
      ),
    });
    const names = { stream: 's', group: 'g', consumer: 'c' };
    expect(() => redisStreamSource(names as RedisStreamSourceOptions)).toThrow(noServer);
    expect(() => redisStreamSource({ url: undefined, ...names } as never)).toThrow(noServer);
    expect(() => redisStreamPublisher({ stream: 's' } as RedisStreamPublisherOptions)).toThrow(noServer);
    expect(() => (redisStreamPublisher as (options?: unknown) => unknown)()).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
  });
});

describe('redisStreamSource', () => {
  it('applies an appended event and acknowledges it', async () => {
    const stream = fixtures.stream('apply');
    const source = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    const context = recordingContext();
    await source.start(context);
    // start() resolves once the first connection attempt is decided; on a loaded machine that
    // attempt can time out and the source reports down until its reconnect lands (by design: a
    // service starts while Redis is away). What matters here is that it comes up.
    await waitFor('the source up', () => source.health().status === 'up');
    expect(source.health()).toMatchObject({ status: 'up', stream, group: 'bff', consumer: 'c1', acked: 0 });

    const event = orderEvent('801');
    const id = await fixtures.publisher({ stream }).append(event);
    await waitFor('the event applied', () => context.applied.length === 1);
    expect(context.applied).toEqual([event]);
    // Redis drops the entry from the pending list before the source has read the XACK reply
    // (and counted it): wait for both.
    await waitFor(
      'the entry acknowledged',
      async () => (await pendingCount(fixtures.url, stream, 'bff')) === 0 && source.health().acked === 1,
    );
    expect(source.health()).toMatchObject({ status: 'up', position: id, acked: 1, pending: 0, malformed: 0 });
  });

  it('creates the group at the end of the stream: older entries are not this group’s', async () => {
    const stream = fixtures.stream('group-start');
    const publisher = fixtures.publisher({ stream });
    await publisher.append(orderEvent('before'));
    const context = recordingContext();
    await fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast }).start(context);
    const after = orderEvent('after');
    await publisher.append(after);
    await waitFor('the later event applied', () => context.applied.length === 1);
    expect(context.applied).toEqual([after]);
  });

  it('drives an invalidator: the dependents of the changed order miss, others stay', async () => {
    const stream = fixtures.stream('invalidator');
    const cache = createCache({ store: memoryStore(), prefix: 'bff' });
    const cdc = createInvalidator(cache, {
      Order: { record: (id) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } },
    });
    const source = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await cdc.subscribe(source);
    await cache.set('orders:detail:A', { id: 'A' }, { tags: ['order:A'] });
    await cache.set('orders:detail:B', { id: 'B' }, { tags: ['order:B'] });

    await raw(fixtures.url, ['XADD', stream, '*', 'event', JSON.stringify({ entity: 'Order' })]);
    await fixtures.publisher({ stream }).append(orderEvent('A'));
    await waitFor('A invalidated', async () => (await cache.get('orders:detail:A')) === undefined);
    expect(await cache.get('orders:detail:B')).toEqual({ id: 'B' });
    expect(cdc.counters()).toMatchObject({ processed: 1, tagsInvalidated: 1, invalid: 1 });
    // The entry is applied before its XACK is sent, and counted when the reply comes: wait for it.
    await waitFor('both entries acknowledged', () => source.health().acked === 2);
    const health = cdc.health();
    expect(health.sources[source.name]).toMatchObject({ status: 'up', acked: 2, malformed: 1 });
    expect((await cache.health()).checks?.cdc?.status).toBe('up');
    await cdc.close();
    expect(source.health().status).toBe('down');
  });

  it('two consumers of one group apply each event once in total', async () => {
    const stream = fixtures.stream('two-consumers');
    const [first, second] = [recordingContext(), recordingContext()];
    await fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast }).start(first);
    await fixtures.source({ stream, group: 'bff', consumer: 'c2', ...fast }).start(second);
    const publisher = fixtures.publisher({ stream });
    const events = Array.from({ length: 60 }, (_, index) => orderEvent(`o${index}`));
    for (const event of events) await publisher.append(event);

    await waitFor('every event applied', () => first.applied.length + second.applied.length >= 60);
    await waitFor('all acknowledged', async () => (await pendingCount(fixtures.url, stream, 'bff')) === 0);
    const all = [...first.changeIds(), ...second.changeIds()];
    expect(all.sort()).toEqual(events.map((event) => event.changeId as string).sort());
    measure(
      `[cdc] two consumers, one group: c1 applied ${first.applied.length}, c2 ${second.applied.length}`,
    );
  });

  it('a consumer whose applies fail keeps its entries pending; another consumer claims them when idle', async () => {
    const stream = fixtures.stream('claim');
    const stuck = recordingContext();
    stuck.failing = true;
    // c1 retries only after a minute: its entries sit idle in its pending list.
    const c1 = fixtures.source({
      stream,
      group: 'bff',
      consumer: 'c1',
      ...fast,
      retryDelay: '60s',
      maxRetryDelay: '60s',
    });
    await c1.start(stuck);
    const publisher = fixtures.publisher({ stream });
    const first = orderEvent('1');
    await publisher.append(first);
    await waitFor('c1 failed to apply', () => stuck.attempts >= 1);
    expect(await pendingByConsumer(fixtures.url, stream, 'bff')).toEqual({ c1: 1 });
    expect(c1.health()).toMatchObject({ status: 'degraded', failures: 1, pending: 1 });

    const healthy = recordingContext();
    const c2 = fixtures.source({ stream, group: 'bff', consumer: 'c2', ...fast });
    await c2.start(healthy);
    const second = orderEvent('2');
    await publisher.append(second);
    await waitFor('c2 applied both', () => healthy.applied.length === 2, { timeoutMs: 5_000 });
    expect(new Set(healthy.changeIds())).toEqual(new Set([first.changeId, second.changeId]));
    expect(c2.health()).toMatchObject({ status: 'up', claimed: 1, acked: 2 });
    expect(await pendingCount(fixtures.url, stream, 'bff')).toBe(0);
    expect(stuck.applied).toEqual([]);
  });

  it('restarted with the same consumer name, it applies only what it had read and not acknowledged', async () => {
    const stream = fixtures.stream('restart-same-name');
    const publisher = fixtures.publisher({ stream });
    const before = recordingContext();
    const c1 = fixtures.source({
      stream,
      group: 'bff',
      consumer: 'c1',
      ...fast,
      retryDelay: '60s',
      maxRetryDelay: '60s',
    });
    await c1.start(before);
    const [e1, e2, e3] = [orderEvent('1'), orderEvent('2'), orderEvent('3')];
    await publisher.append(e1);
    await publisher.append(e2);
    await waitFor('e1 and e2 applied', () => before.applied.length === 2);
    await waitFor('acknowledged', async () => (await pendingCount(fixtures.url, stream, 'bff')) === 0);
    before.failing = true;
    await publisher.append(e3);
    await waitFor('e3 read and failed', () => before.attempts === 3);
    await c1.stop();
    expect(await pendingByConsumer(fixtures.url, stream, 'bff')).toEqual({ c1: 1 });

    const after = recordingContext();
    const again = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await again.start(after);
    await waitFor('e3 applied after the restart', () => after.applied.length === 1);
    const e4 = orderEvent('4');
    await publisher.append(e4);
    await waitFor('e4 applied', () => after.applied.length === 2);
    expect(after.changeIds()).toEqual([e3.changeId, e4.changeId]);
    expect(await pendingCount(fixtures.url, stream, 'bff')).toBe(0);
  });

  it('acknowledges and counts malformed entries; the events after them are applied', async () => {
    const stream = fixtures.stream('malformed');
    const source = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    const context = recordingContext();
    await source.start(context);
    await raw(fixtures.url, ['XADD', stream, '*', 'other', 'field']);
    await raw(fixtures.url, ['XADD', stream, '*', 'event', '{not json']);
    await raw(fixtures.url, ['XADD', stream, '*', 'event', JSON.stringify({ entity: 'Order' })]);
    const good = orderEvent('801');
    await fixtures.publisher({ stream }).append(good);

    await waitFor('the good event applied', () => context.applied.length === 1);
    expect(context.applied).toEqual([good]);
    // Redis sees an XACK before the source has read its reply and counted it: wait for both.
    await waitFor(
      'all acknowledged',
      async () => (await pendingCount(fixtures.url, stream, 'bff')) === 0 && source.health().acked === 4,
    );
    expect(context.invalid).toHaveLength(3);
    expect(context.invalid).toEqual(Array(3).fill(expect.objectContaining({ code: 'E_INVALID_EVENT' })));
    const health = source.health();
    expect(health).toMatchObject({ status: 'up', malformed: 3, acked: 4 });
    expect(health.lastError?.message).toMatch(/malformed entry .*not an invalidation event/);
  });

  it('an entry the store cannot apply stays pending, with back-off, and is applied once the store is back', async () => {
    const stream = fixtures.stream('store-down');
    const store = chaosStore(memoryStore());
    const cache = createCache({ store, prefix: 'bff' });
    const cdc = createInvalidator(cache, {
      Order: { record: (id) => ({ tags: [`order:${id}`] }), all: { patterns: ['orders:*'] } },
    });
    const source = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast, maxRetryDelay: 400 });
    await cdc.subscribe(source);
    await cache.set('orders:detail:A', 'cached', { tags: ['order:A'] });

    store.chaos.set({ disconnected: true });
    await fixtures.publisher({ stream }).append(orderEvent('A'));
    await waitFor('a failed apply', () => source.health().failures >= 1);
    const outage = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const attempts = source.health().failures;
    expect(await pendingCount(fixtures.url, stream, 'bff')).toBe(1);
    expect(source.health()).toMatchObject({ status: 'degraded', pending: 1, acked: 0 });
    expect(cdc.health().status).toBe('degraded');
    measure(
      `[cdc] store down for ${Math.round(performance.now() - outage)} ms: ${attempts} apply attempts (back-off 50 ms doubling to 400 ms)`,
    );
    // A hot loop would make thousands of attempts in 1.5 s.
    expect(attempts).toBeLessThan(20);

    store.chaos.reset();
    await waitFor('applied after the store came back', async () => source.health().acked === 1, {
      timeoutMs: 5_000,
    });
    store.chaos.reset();
    expect(await cache.get('orders:detail:A')).toBeUndefined();
    expect(await pendingCount(fixtures.url, stream, 'bff')).toBe(0);
    expect(source.health()).toMatchObject({ status: 'up', pending: 0 });
    await cdc.close();
  });

  it('fails safe once when the cap trimmed events the group never read, then goes on', async () => {
    const stream = fixtures.stream('trimmed');
    const publisher = fixtures.publisher({ stream, maxLen: 10 });
    // The group exists (created by a first run), then its consumer is away while 300 events arrive.
    const away = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await away.start(recordingContext());
    await away.stop();
    for (let index = 0; index < 300; index++) await publisher.append(orderEvent(`o${index}`));
    const remaining = Number(await raw(fixtures.url, ['XLEN', stream]));
    expect(remaining).toBeLessThan(300);

    const context = recordingContext();
    const back = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await back.start(context);
    await waitFor('the remaining entries applied', () => context.applied.length === remaining);
    await new Promise((resolve) => setTimeout(resolve, 500)); // several checks later
    expect(context.failSafes).toHaveLength(1);
    expect(context.failSafes[0]).toMatch(/trimmed \d+ entries group bff never read/);
    const health = back.health();
    expect(health.failSafes).toBe(1);
    expect(health.lastFailSafe?.reason).toBe(context.failSafes[0]);
    expect(health.status).toBe('up');
    expect(health.lost).toBe(300 - remaining);
  });

  it('pending entries trimmed before they were applied are covered by one fail-safe, acknowledged and counted', async () => {
    const stream = fixtures.stream('trimmed-pending');
    const publisher = fixtures.publisher({ stream, maxLen: 10 });
    const failing = recordingContext();
    failing.failing = true;
    const slow = { ...fast, retryDelay: '60s', maxRetryDelay: '60s' } as const;
    const c1 = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...slow });
    await c1.start(failing);
    await publisher.append(orderEvent('first'));
    await waitFor('c1 read the entry and failed', () => failing.attempts === 1);
    await c1.stop();
    for (let index = 0; index < 300; index++) await publisher.append(orderEvent(`o${index}`));
    const remaining = Number(await raw(fixtures.url, ['XLEN', stream]));

    const context = recordingContext();
    const back = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await back.start(context);
    await waitFor('the remaining entries applied', () => context.applied.length === remaining);
    await waitFor('nothing pending', async () => (await pendingCount(fixtures.url, stream, 'bff')) === 0);
    expect(context.changeIds()).not.toContain(failing.changeIds()[0]);
    // One flush covers both what the cap trimmed unread and the trimmed pending entry.
    expect(context.failSafes).toHaveLength(1);
    expect(back.health()).toMatchObject({ status: 'up', failSafes: 1, lost: 301 - remaining });
  });

  it('leaves a passed-in client open and closes the connection it opened for reading', async () => {
    const stream = fixtures.stream('borrowed');
    const client = createClient({ url: fixtures.url });
    client.on('error', () => {});
    await client.connect();
    try {
      const consumer = `borrowed-${process.pid}-${Date.now()}`;
      const source = fixtures.source({ client, stream, group: 'bff', consumer, ...fast });
      const context = recordingContext();
      await source.start(context);
      await fixtures.publisher({ client, stream }).append(orderEvent('1'));
      await waitFor('applied', () => context.applied.length === 1);
      const readers = async () =>
        String(await raw(fixtures.url, ['CLIENT', 'LIST']))
          .split('\n')
          .filter((line) => line.includes(` name=cdc-read-${consumer} `)).length;
      expect(await readers()).toBe(1);
      await source.stop();
      await waitFor('the reading connection closed', async () => (await readers()) === 0);
      expect(client.isOpen).toBe(true);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.destroy();
    }
  });

  it('a group that keeps up with a trimmed stream never fails safe', async () => {
    const stream = fixtures.stream('trimmed-in-time');
    const publisher = fixtures.publisher({ stream, maxLen: 10 });
    const context = recordingContext();
    const source = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    // Keeping up, whatever the machine's speed: each batch is at most maxLen entries and is
    // applied before the next is appended, and MAXLEN ~ never trims the newest maxLen entries.
    // (300 sequential appends used to take over 5 s on a loaded machine; a batch is pipelined.)
    for (let round = 1; round <= 12; round++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, index) => publisher.append(orderEvent(`o${round}-${index}`))),
      );
      await waitFor(`round ${round} applied`, () => context.applied.length === round * 10);
    }
    expect(Number(await raw(fixtures.url, ['XLEN', stream]))).toBeLessThan(120); // the cap did trim
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(context.failSafes).toEqual([]);
    expect(source.health()).toMatchObject({ failSafes: 0, acked: 120 });
  });

  it('start() twice is refused; stop() is idempotent and reports down', async () => {
    const stream = fixtures.stream('lifecycle');
    const source = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    expect(source.health()).toMatchObject({ status: 'down', reason: 'not started' });
    await source.start(recordingContext());
    await expect(source.start(recordingContext())).rejects.toMatchObject({ code: 'E_CLOSED' });
    await Promise.all([source.stop(), source.stop()]);
    await source.stop();
    expect(source.health()).toMatchObject({ status: 'down', reason: 'stopped' });
  });

  it('a key that is not a stream fails start() with a typed error', async () => {
    const stream = fixtures.stream('wrong-type');
    await raw(fixtures.url, ['SET', stream, 'not a stream']);
    const source = fixtures.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await expect(source.start(recordingContext())).rejects.toMatchObject({
      code: 'E_STORE_ERROR',
      message: expect.stringMatching(/WRONGTYPE/),
    });
    expect(source.health().status).toBe('down');
  });
});
