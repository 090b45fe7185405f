import type { CacheStore } from '@org/cache-core';
import { type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';
import { ChaosError, chaosStore } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import { mapAdapter } from './support/map-adapter.js';

const capabilitiesOf = (store: CacheStore) => store[storeCapabilities] as StoreCapabilities;

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected the capability to be present');
  return value;
}

async function drain(batches: AsyncIterable<string[]>): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of batches) keys.push(...batch);
  return keys.sort();
}

describe('chaosStore capabilities', () => {
  it('renames, keeps structuredValues, and drops inProcess and getSync so core applies deadlines', () => {
    const capabilities = capabilitiesOf(chaosStore(mapAdapter('full')));
    expect(capabilities.name).toBe('chaos(test-map)');
    expect(capabilities.structuredValues).toBe(true);
    expect(capabilities.inProcess).toBeUndefined();
    expect(capabilities.getSync).toBeUndefined();
    expect(typeof capabilities.scan).toBe('function');
    expect(typeof capabilities.memoryUsage).toBe('function');
  });

  it('scan and memoryUsage pass through while healthy', async () => {
    const inner = mapAdapter('full');
    for (const key of ['bff:a', 'bff:b', 'bffx:c']) await inner.set(key, 'v');
    const capabilities = capabilitiesOf(chaosStore(inner));
    expect(await drain(capabilities.scan?.('bff:*', { batchSize: 1 }) as AsyncIterable<string[]>)).toEqual([
      'bff:a',
      'bff:b',
    ]);
    const [present, missing] = (await capabilities.memoryUsage?.(['bff:a', 'nope'])) ?? [];
    expect(present).toBeGreaterThan(0);
    expect(missing).toBeUndefined();
  });

  it('scan and memoryUsage get the same chaos, scan at every batch', async () => {
    const inner = mapAdapter('full');
    for (const key of ['a', 'b', 'c']) await inner.set(key, 'v');
    const store = chaosStore(inner);
    const capabilities = capabilitiesOf(store);

    const iterator = required(capabilities.scan)('*', { batchSize: 1 })[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toHaveLength(1);
    store.chaos.set({ disconnected: true });
    await expect(iterator.next()).rejects.toMatchObject({ operation: 'scan', reason: 'disconnected' });

    await expect(capabilities.memoryUsage?.(['a'])).rejects.toBeInstanceOf(ChaosError);
    store.chaos.set({ disconnected: false, hang: true });
    const usage = capabilities.memoryUsage?.(['a']) as Promise<unknown>;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.chaos.pending).toBe(1);
    store.chaos.reset();
    expect(await usage).toEqual([expect.any(Number)]);
  });

  it('the iterator goes through chaos at every step', async () => {
    const inner = mapAdapter('iterable');
    for (const key of ['a', 'b']) await inner.set(key, key);
    const store = chaosStore(inner);
    const seen: unknown[] = [];
    for await (const pair of store.iterator?.() ?? []) seen.push(pair);
    expect(seen).toEqual([
      ['a', 'a'],
      ['b', 'b'],
    ]);
    const steps = store.iterator?.() as AsyncGenerator<unknown>;
    expect((await steps.next()).value).toEqual(['a', 'a']);
    store.chaos.set({ failureRate: 1 });
    await expect(steps.next()).rejects.toMatchObject({ operation: 'iterator' });
  });

  it('has exactly the optional methods of the inner store', () => {
    const minimal = chaosStore(mapAdapter('minimal'));
    for (const method of ['getMany', 'setMany', 'has', 'hasMany', 'deleteMany', 'iterator', 'disconnect']) {
      expect(method in minimal, method).toBe(false);
    }
    const iterable = chaosStore(mapAdapter('iterable'));
    for (const method of ['getMany', 'setMany', 'has', 'deleteMany', 'iterator']) {
      expect(typeof (iterable as unknown as Record<string, unknown>)[method], method).toBe('function');
    }
    expect(capabilitiesOf(iterable).scan).toBeUndefined();
    expect(capabilitiesOf(iterable).memoryUsage).toBeUndefined();
  });

  it('names a store without capabilities after its class, else "store"', () => {
    class KeyvThing {
      opts = {};
      on() {
        return this;
      }
      async get() {
        return undefined;
      }
      async set() {}
      async delete() {
        return false;
      }
      async clear() {}
    }
    expect(capabilitiesOf(chaosStore(new KeyvThing())).name).toBe('chaos(KeyvThing)');
    expect(capabilitiesOf(chaosStore(mapAdapter('minimal'))).name).toBe('chaos(store)');
  });
});
