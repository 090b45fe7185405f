import { type ReplayPosition, replayPositionKey, salesforcePubSubSource } from '@org/cache-cdc';
import { describe, expect, it } from 'vitest';
import {
  createProcess,
  eventually,
  expectSubscribed,
  FakeEmitterClient,
  fillCache,
  orderChange,
  sourceFor,
  TOPIC,
} from './salesforce-pubsub-fakes.js';

describe('salesforcePubSubSource (client v4, emitter API)', () => {
  it('applies events, requests more, saves keepalives, resubscribes on end and resumes after a restart', async () => {
    const first = createProcess();
    const client = new FakeEmitterClient();
    const source = sourceFor(first, client, { numRequested: 2 });
    await first.cdc.subscribe(source);
    expect(source.health()).toMatchObject({ status: 'up', api: 'emitter' });
    expectSubscribed(client.calls, [{ method: 'subscribe', topic: TOPIC, numRequested: 2 }]);
    await fillCache(first.cache);

    const stream = client.latest;
    stream.emit('data', orderChange(70, '801'));
    stream.emit('data', orderChange(71, '802'));
    stream.emit('lastevent');
    await eventually(() => expect(client.requests).toHaveLength(1));
    expect(client.requests[0]).toEqual({ emitter: stream, numRequested: 2 });
    expect(await first.cache.get('orders:detail:801')).toBeUndefined();

    stream.emit('keepalive', { latestReplayId: 75, pendingNumRequested: 2 });
    await eventually(async () =>
      expect(await first.cache.get<ReplayPosition>(replayPositionKey(TOPIC))).toMatchObject({
        replayId: '75',
      }),
    );

    stream.emit('end');
    await eventually(() => expect(client.emitters).toHaveLength(2));
    expect(client.calls[1]).toMatchObject({ method: 'subscribeFromReplayId', numRequested: 2, replayId: 75 });
    stream.emit('error', new Error('late error on the old stream')); // must not crash or count
    expect(source.health().counters.resubscriptions).toBe(1);
    await first.cdc.close();

    const second = createProcess(first.store, first.clock);
    const next = new FakeEmitterClient();
    await second.cdc.subscribe(
      salesforcePubSubSource({ client: next, topic: TOPIC, cache: second.cache, clock: second.clock }),
    );
    expectSubscribed(next.calls, [{ method: 'subscribeFromReplayId', replayId: 75 }]);
  });

  it('fails safe on a rejected replay id from the emitter', async () => {
    const first = createProcess();
    const client = new FakeEmitterClient();
    await first.cdc.subscribe(sourceFor(first, client));
    client.latest.emit('data', orderChange(80, '801'));
    await eventually(async () =>
      expect(await first.cache.get<ReplayPosition>(replayPositionKey(TOPIC))).toMatchObject({
        replayId: '80',
      }),
    );
    await first.cdc.close();

    const second = createProcess(first.store, first.clock);
    const next = new FakeEmitterClient();
    const source = sourceFor(second, next);
    await second.cdc.subscribe(source);
    await fillCache(second.cache);
    const rejection = Object.assign(new Error('3 INVALID_ARGUMENT: The Replay ID validation failed.'), {
      code: 3,
    });
    next.latest.emit('error', rejection);
    await eventually(() => expect(next.calls).toHaveLength(2));
    expectSubscribed(next.calls, [
      { method: 'subscribeFromReplayId', replayId: 80 },
      { method: 'subscribe' },
    ]);
    await eventually(() => expect(source.health().failSafe?.reason).toMatch(/rejected replay id 80/));
    expect(await second.cache.get('orders:detail:801')).toBeUndefined();
  });
});
