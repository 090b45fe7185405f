import { createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { describe, expect, it } from 'vitest';
import { detectPubSubApi } from '../src/salesforce-pubsub/client-shapes.js';
import { cachePositionStore, replayPositionKey } from '../src/salesforce-pubsub/position-store.js';
import { readReplayId, toClientReplayId } from '../src/salesforce-pubsub/replay-id.js';
import { FakeCallbackClient, FakeEmitterClient, TOPIC } from './salesforce-pubsub-fakes.js';

describe('replay ids', () => {
  it('reads every form a client gives, exactly, and flags numbers the client already rounded', () => {
    expect(readReplayId(18_098_167)).toEqual({ id: '18098167', exact: true });
    expect(readReplayId(2n ** 63n)).toEqual({ id: '9223372036854775808', exact: true });
    expect(readReplayId('0009')).toEqual({ id: '9', exact: true });
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64BE(18_098_167n); // as the gRPC API sends it
    expect(readReplayId(bytes)).toEqual({ id: '18098167', exact: true });
    expect(readReplayId(2 ** 60)).toEqual({ id: '1152921504606846976', exact: false });
    for (const bad of [-1, 1.5, 'abc', '18446744073709551616', null, undefined, {}]) {
      expect(readReplayId(bad)).toBeUndefined();
    }
  });

  it('hands the client a number when exact, the decimal string otherwise', () => {
    expect(toClientReplayId('18098167')).toBe(18_098_167);
    expect(toClientReplayId('9007199254740991')).toBe(9_007_199_254_740_991);
    expect(toClientReplayId('9007199254740993')).toBe('9007199254740993');
    // What both client versions do with it: BigInt(replayId) into 8 bytes.
    expect(BigInt(toClientReplayId('18446744073709551615'))).toBe(2n ** 64n - 1n);
  });
});

describe('client shape detection', () => {
  it('tells v5 (callback) from v4 (emitter) clients, and refuses anything else', () => {
    expect(detectPubSubApi(new FakeCallbackClient())).toBe('callback');
    expect(detectPubSubApi(new FakeEmitterClient())).toBe('emitter');
    const v5WithManaged = { ...methodsOf(new FakeEmitterClient()), subscribeWithManagedSubscription() {} };
    expect(detectPubSubApi(v5WithManaged)).toBe('callback');
    expect(detectPubSubApi({ subscribe() {} })).toBeUndefined();
    expect(detectPubSubApi(null)).toBeUndefined();
  });
});

describe('cachePositionStore', () => {
  it('keeps { replayId, savedAt } under cdc:replay:<topic>, and reads anything else as no position', async () => {
    const cache = createCache({ store: memoryStore(), prefix: 'bff' });
    const positions = cachePositionStore(cache);
    expect(replayPositionKey(TOPIC)).toBe('cdc:replay:/data/OrderChangeEvent');
    await positions.save(TOPIC, { replayId: '1152921504606846977', savedAt: 1_000 });
    expect(await positions.load(TOPIC)).toEqual({ replayId: '1152921504606846977', savedAt: 1_000 });
    expect(await cache.get(replayPositionKey(TOPIC))).toEqual({
      replayId: '1152921504606846977',
      savedAt: 1_000,
    });

    await cache.set(replayPositionKey(TOPIC), { replayId: 12, savedAt: 'yesterday' }, { ttl: '1h' });
    expect(await positions.load(TOPIC)).toBeUndefined();
    expect(await positions.load('/data/AccountChangeEvent')).toBeUndefined();
  });
});

function methodsOf(client: object): Record<string, unknown> {
  const methods: Record<string, unknown> = {};
  const prototype = Object.getPrototypeOf(client) as object;
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(prototype))) {
    if (name !== 'constructor' && typeof descriptor.value === 'function') methods[name] = descriptor.value;
  }
  return methods;
}
