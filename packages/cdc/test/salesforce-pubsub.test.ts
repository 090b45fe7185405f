import {
  cachePositionStore,
  type PositionStore,
  type ReplayPosition,
  replayPositionKey,
  salesforcePubSubSource,
} from '@org/cache-cdc';
import { memoryStore } from '@org/cache-memory';
import { chaosStore } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import {
  createProcess,
  eventually,
  expectSubscribed,
  FAST_RETRY,
  FakeCallbackClient,
  fillCache,
  orderChange,
  sourceFor,
  TOPIC,
} from './salesforce-pubsub-fakes.js';

type Process = ReturnType<typeof createProcess>;

/** Runs a first process until it has processed `replayId`, then stops it (its position saved). */
async function firstRun(process: Process, replayId: unknown): Promise<void> {
  const client = new FakeCallbackClient();
  const source = sourceFor(process, client);
  await process.cdc.subscribe(source);
  client.event(orderChange(replayId, '801'));
  await eventually(() => expect(source.health().counters.applied).toBe(1));
  await process.cdc.close();
}

const storedPosition = (process: Process) => process.cache.get<ReplayPosition>(replayPositionKey(TOPIC));

describe('salesforcePubSubSource (client v5, callback API)', () => {
  it('resumes from the stored replay id after a restart, without failing safe', async () => {
    const first = createProcess();
    await firstRun(first, 1_234);
    first.clock.advance('71h'); // within the 72 h retention

    const second = createProcess(first.store, first.clock);
    await fillCache(second.cache);
    const client = new FakeCallbackClient();
    const source = sourceFor(second, client);
    await second.cdc.subscribe(source);

    expectSubscribed(client.calls, [{ method: 'subscribeFromReplayId', topic: TOPIC, replayId: 1_234 }]);
    expect(await second.cache.get('orders:detail:801')).toEqual({ status: 'Draft' });
    expect(source.health()).toMatchObject({ status: 'up', position: '1234' });
    expect(source.health().failSafe).toBeUndefined();
    expect(second.cdc.counters().failSafes).toBe(0);
  });

  it('fails safe with no stored position: drops every ruled entity, says so, subscribes from the latest', async () => {
    const process = createProcess();
    await fillCache(process.cache);
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client);
    await process.cdc.subscribe(source);

    expectSubscribed(client.calls, [{ method: 'subscribe', topic: TOPIC }]);
    expect(await process.cache.get('orders:detail:801')).toBeUndefined();
    expect(await process.cache.get('catalog:product:01t1')).toBeUndefined();
    expect(await process.cache.get('billing:invoice:7')).toEqual({ total: 10 });
    expect(source.health().failSafe).toEqual({
      at: '2024-06-03T08:00:00.000Z',
      reason: `no stored replay position for ${TOPIC}`,
    });
    expect(process.cdc.health().lastFailSafe?.reason).toMatch(/no stored replay position/);
  });

  it('fails safe when the stored position is older than the 72 h retention', async () => {
    const first = createProcess();
    await firstRun(first, 55);
    first.clock.advance('73h');

    const second = createProcess(first.store, first.clock);
    await fillCache(second.cache);
    const client = new FakeCallbackClient();
    const source = sourceFor(second, client);
    await second.cdc.subscribe(source);

    expectSubscribed(client.calls, [{ method: 'subscribe' }]);
    expect(await second.cache.get('orders:detail:801')).toBeUndefined();
    expect(await second.cache.get('catalog:product:01t1')).toBeUndefined();
    expect(source.health().failSafe?.reason).toMatch(
      /replay position 55 is 73 h old, beyond the 72 h retention/,
    );
  });

  it('fails safe and subscribes from the latest when the server rejects the stored replay id', async () => {
    const first = createProcess();
    await firstRun(first, 900);
    const second = createProcess(first.store, first.clock);
    const client = new FakeCallbackClient();
    const source = sourceFor(second, client);
    await second.cdc.subscribe(source);
    await fillCache(second.cache);

    client.send('error', { code: 3, details: 'The Replay ID validation failed.' });
    client.send('end');

    await eventually(() => expect(client.calls).toHaveLength(2));
    expectSubscribed(client.calls, [
      { method: 'subscribeFromReplayId', replayId: 900 },
      { method: 'subscribe', topic: TOPIC },
    ]);
    await eventually(() => expect(source.health().failSafe?.reason).toMatch(/rejected replay id 900/));
    expect(await second.cache.get('orders:detail:801')).toBeUndefined();
    expect(await second.cache.get('catalog:product:01t1')).toBeUndefined();
    expect(await second.cache.get('billing:invoice:7')).toEqual({ total: 10 });
  });

  it('saves the keepalive latest replay id, keeping the position fresh in quiet periods', async () => {
    const process = createProcess();
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client);
    await process.cdc.subscribe(source);

    client.keepalive(5_000);
    await eventually(async () =>
      expect(await storedPosition(process)).toEqual({ replayId: '5000', savedAt: process.clock.now() }),
    );
    process.clock.advance('4m');
    client.send('grpcKeepAlive', { latestReplayId: 5_001, pendingNumRequested: 100 });
    await eventually(async () =>
      expect(await storedPosition(process)).toEqual({ replayId: '5001', savedAt: process.clock.now() }),
    );
    expect(source.health().lastKeepaliveAt).toBe(new Date(process.clock.now()).toISOString());
  });

  it('counts a malformed event, skips it without resubscribing, and applies the next one', async () => {
    const process = createProcess();
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client);
    await process.cdc.subscribe(source);
    await fillCache(process.cache);

    client.event({ replayId: 10, payload: { Status: 'no ChangeEventHeader' } });
    // The client's EventParseError: an event it could not decode.
    client.send('error', { message: 'Failed to parse event', replayId: 11, event: {}, latestReplayId: 11 });
    client.event(orderChange(12, '801'));

    await eventually(() => expect(source.health().counters.applied).toBe(1));
    expect(await process.cache.get('orders:detail:801')).toBeUndefined();
    expect(source.health()).toMatchObject({ status: 'up', position: '12' });
    expect(source.health().counters).toMatchObject({ malformed: 2, eventsReceived: 3, resubscriptions: 0 });
    expect(process.cdc.counters().invalid).toBe(2);
    expect(client.calls).toHaveLength(1);
  });

  it('retries an event the store could not take, then applies it', async () => {
    const store = chaosStore(memoryStore());
    const process = createProcess(store);
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client, {
      retry: { initialDelay: 1, maxDelay: 2, applyAttempts: 1_000_000 },
    });
    await process.cdc.subscribe(source);
    await fillCache(process.cache);

    store.chaos.set({ disconnected: true, operations: ['delete'] });
    client.event(orderChange(20, '801'));
    await eventually(() => expect(source.health().counters.applyRetries).toBeGreaterThanOrEqual(2));
    expect(source.health()).toMatchObject({
      status: 'degraded',
      reason: expect.stringMatching(/retrying event 20/),
    });
    expect(source.health().position).toBeUndefined();

    store.chaos.reset();
    await eventually(() => expect(source.health().position).toBe('20'));
    expect(await process.cache.get('orders:detail:801')).toBeUndefined();
    expect(source.health().status).toBe('up');
  });

  it('gives up after the attempts, keeps the position before the event, and resubscribes from it', async () => {
    const store = chaosStore(memoryStore());
    const process = createProcess(store);
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client, {
      numRequested: 2,
      retry: { ...FAST_RETRY, applyAttempts: 2 },
    });
    await process.cdc.subscribe(source);
    client.event(orderChange(30, '800'));
    await eventually(() => expect(source.health().position).toBe('30'));
    await fillCache(process.cache);

    store.chaos.set({ disconnected: true, operations: ['delete'] });
    client.event(orderChange(31, '801'));
    client.send('lastEvent');
    await eventually(() => expect(source.health().status).toBe('down'));
    expect(source.health().reason).toMatch(
      /could not apply event 31 after 2 attempts.*resubscribing from 30/,
    );
    expect(client.requests).toEqual([]); // no more events requested: the server ends the stream
    expect(source.health().position).toBe('30');

    store.chaos.reset();
    client.send('end');
    await eventually(() => expect(client.calls).toHaveLength(2));
    expectSubscribed(client.calls, [
      { method: 'subscribe' },
      { method: 'subscribeFromReplayId', replayId: 30 },
    ]);
    client.event(orderChange(31, '801')); // delivered again
    await eventually(() => expect(source.health().position).toBe('31'));
    expect(await process.cache.get('orders:detail:801')).toBeUndefined();
    expect(source.health().status).toBe('up');
  });

  it("resubscribes from the last position on 'end' and on a stream error", async () => {
    const process = createProcess();
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client);
    await process.cdc.subscribe(source);
    client.event(orderChange(40, '801'));
    client.event(orderChange(41, '802'));
    client.send('end');

    await eventually(() => expect(client.calls).toHaveLength(2));
    expectSubscribed(client.calls, [
      { method: 'subscribe' },
      { method: 'subscribeFromReplayId', replayId: 41 },
    ]);
    await eventually(() => expect(source.health().status).toBe('up'));

    // A mid-stream error (not a rejected replay id: events came first) resubscribes too, even
    // with no 'end' after it, when the v5 client keeps the topic's first callback.
    client.event(orderChange(42, '803'));
    client.send('error', { code: 14, details: 'UNAVAILABLE: connection reset' });
    await eventually(() => expect(client.calls).toHaveLength(3));
    expect(client.calls[2]).toMatchObject({ method: 'subscribeFromReplayId', replayId: 42 });
    client.event(orderChange(43, '804'));
    await eventually(() => expect(source.health().position).toBe('43'));
    expect(source.health().counters.resubscriptions).toBe(2);
    expect(source.health().failSafe?.reason).toMatch(/no stored replay position/); // only the first
  });

  it('retries a fail-safe flush the store refused, and applies nothing before it succeeds', async () => {
    const store = chaosStore(memoryStore());
    const process = createProcess(store);
    await fillCache(process.cache);
    store.chaos.set({ disconnected: true, operations: ['iterator', 'scan'] }); // pattern deletes only
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client, { retry: { initialDelay: 1, maxDelay: 2 } });
    await process.cdc.subscribe(source); // resolves after the first attempt; retries go on

    expect(source.health()).toMatchObject({
      status: 'down',
      reason: expect.stringMatching(/fail-safe flush failed/),
    });
    expect(source.health().failSafe).toBeUndefined();
    client.event(orderChange(90, '801'));
    client.keepalive(91);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(source.health().counters.applied).toBe(0);
    expect(await storedPosition(process)).toBeUndefined();

    store.chaos.reset();
    await eventually(() => expect(source.health().position).toBe('91'));
    expect(source.health().failSafe?.reason).toMatch(/no stored replay position/);
    expect(source.health().counters.applied).toBe(1);
    expect(await process.cache.get('catalog:product:01t1')).toBeUndefined();
    expect(source.health().status).toBe('up');
  });

  it('requests more events once the requested batch is delivered (flow control)', async () => {
    const process = createProcess();
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client, { numRequested: 2 });
    await process.cdc.subscribe(source);
    expect(client.calls[0]).toMatchObject({ numRequested: 2 });

    client.event(orderChange(50, '801'));
    client.event(orderChange(51, '802'));
    client.send('lastEvent');
    await eventually(() => expect(client.requests).toEqual([{ topic: TOPIC, numRequested: 2 }]));
    expect(source.health().counters.applied).toBe(2);
  });

  it('keeps replay ids beyond 2^53 exact, and passes them to the client as decimal strings', async () => {
    const first = createProcess();
    const client = new FakeCallbackClient();
    const source = sourceFor(first, client);
    await first.cdc.subscribe(source);
    client.event(orderChange(2n ** 60n + 1n, '801'));
    await eventually(() => expect(source.health().position).toBe('1152921504606846977'));
    client.event(orderChange('18446744073709551615', '802'));
    await eventually(() => expect(source.health().position).toBe('18446744073709551615'));
    // A number above 2^53 was already rounded by the client: applied, but never a position.
    client.event(orderChange(2 ** 60, '803'));
    await eventually(() => expect(source.health().counters.impreciseReplayIds).toBe(1));
    expect(source.health().position).toBe('18446744073709551615');
    await first.cdc.close();

    expect(await storedPosition(first)).toMatchObject({ replayId: '18446744073709551615' });
    const second = createProcess(first.store, first.clock);
    const next = new FakeCallbackClient();
    await second.cdc.subscribe(sourceFor(second, next));
    expect(next.calls[0]).toMatchObject({
      method: 'subscribeFromReplayId',
      replayId: '18446744073709551615',
    });
  });

  it('stop waits for the position write in flight and flushes the latest position', async () => {
    const process = createProcess();
    const inner = cachePositionStore(process.cache);
    const saved: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const positions: PositionStore = {
      load: (topic) => inner.load(topic),
      async save(topic, position) {
        saved.push(position.replayId);
        if (saved.length === 1) await gate;
        await inner.save(topic, position);
      },
    };
    const client = new FakeCallbackClient();
    const source = salesforcePubSubSource({ client, topic: TOPIC, positions, clock: process.clock });
    await process.cdc.subscribe(source);
    for (let replayId = 60; replayId <= 64; replayId++) client.event(orderChange(replayId, `80${replayId}`));
    await eventually(() => expect(source.health().position).toBe('64'));

    let stopped = false;
    const stopping = source.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false); // the first write still holds the store
    release();
    await stopping;
    expect(saved).toEqual(['60', '64']); // coalesced: the latest wins
    expect(await inner.load(TOPIC)).toMatchObject({ replayId: '64' });
    expect(source.health()).toMatchObject({ status: 'down', reason: 'stopped' });
    await source.stop(); // idempotent
  });

  it('reports health: up when subscribed, degraded while resubscribing, down when stopped', async () => {
    const process = createProcess();
    const client = new FakeCallbackClient();
    const source = sourceFor(process, client, { retry: { initialDelay: '1h', maxDelay: '1h' } });
    expect(source.health()).toMatchObject({ status: 'down', reason: 'not started' });
    await process.cdc.subscribe(source);
    expect(source.health()).toMatchObject({ status: 'up', topic: TOPIC, api: 'callback' });
    process.clock.advance('11m'); // keepalives come at least every 270 s
    expect(source.health()).toMatchObject({ status: 'degraded', reason: 'no event or keepalive for 660 s' });
    client.keepalive(1);
    expect(source.health().status).toBe('up');

    client.send('end');
    expect(source.health()).toMatchObject({
      status: 'degraded',
      reason: expect.stringMatching(/the stream ended; resubscribing/),
    });
    expect(process.cdc.health().sources[source.name]?.status).toBe('degraded');

    await process.cdc.close();
    expect(source.health()).toMatchObject({ status: 'down', reason: 'stopped' });
    expect(client.calls).toHaveLength(1); // the pending resubscription was cancelled
  });

  it('refuses a client of neither shape, and a source without a position store', () => {
    const process = createProcess();
    expect(() => salesforcePubSubSource({ client: {} as never, topic: TOPIC, cache: process.cache })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION' }),
    );
    expect(() => salesforcePubSubSource({ client: new FakeCallbackClient(), topic: TOPIC })).toThrow(
      /needs a cache or a position store/,
    );
  });
});
