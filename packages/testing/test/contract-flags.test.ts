import { AssertionError } from 'node:assert';
import { adapterContractSuite, type StoreContractCapabilities, storeContractSuite } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import { collectSuite } from './support/collect-suite.js';
import { mapAdapter } from './support/map-adapter.js';

const allFlags: StoreContractCapabilities = {
  ttl: true,
  scan: true,
  memoryUsage: true,
  syncRead: true,
  structuredValues: true,
};

const adapterTests = (kind: Parameters<typeof mapAdapter>[0], capabilities: StoreContractCapabilities) =>
  collectSuite((runner) =>
    adapterContractSuite(runner, { name: kind ?? 'full', createStore: () => mapAdapter(kind), capabilities }),
  );

const capabilityTest = /scan|getSync|memoryUsage|structured|expires/;

describe('capability flags change what the suite runs', () => {
  it('a false flag leaves its tests out; a true one registers them', () => {
    const none = adapterTests('full', {}).map((test) => test.name);
    const all = adapterTests('full', allFlags).map((test) => test.name);
    expect(none.filter((name) => capabilityTest.test(name))).toEqual([]);
    const added = all.filter((name) => !none.includes(name));
    expect(added.length).toBe(8);
    expect(added.every((name) => capabilityTest.test(name))).toBe(true);
    expect(adapterTests('full', { scan: true }).length).toBe(none.length + 4);
  });

  it('a true flag on a store without the capability fails its tests', async () => {
    const tests = adapterTests('minimal', { scan: true, memoryUsage: true, syncRead: true });
    const flagged = tests.filter((test) => /scan|getSync|memoryUsage/.test(test.name));
    expect(flagged.length).toBe(6);
    for (const test of flagged) {
      await expect(test.run(), test.name).rejects.toThrow(
        /declares \w+, but \[storeCapabilities\]\.\w+ is missing/,
      );
    }
  });

  it('a store advertising capabilities the subject did not declare fails the declaration test', async () => {
    const [declaration] = adapterTests('full', {}).filter((test) =>
      test.name.includes('declared capabilities'),
    );
    await expect(declaration?.run()).rejects.toBeInstanceOf(AssertionError);
    const [honest] = adapterTests('full', allFlags).filter((test) =>
      test.name.includes('declared capabilities'),
    );
    await expect(honest?.run()).resolves.toBeUndefined();
  });

  it('ttl: true registers expiry tests at both levels, and a store that never expires fails them', async () => {
    const immortalStore = () => {
      const store = mapAdapter('minimal');
      const set = store.set;
      store.set = (key: string, value: unknown) => set(key, value);
      return store;
    };
    const suite = (createStore: () => ReturnType<typeof mapAdapter>, ttl: boolean) =>
      collectSuite((runner) =>
        storeContractSuite(runner, { name: 'subject', createStore, capabilities: { ttl } }),
      ).filter((test) => /expires after its ttl|physical ttl/.test(test.name));

    expect(suite(() => mapAdapter('minimal'), false)).toEqual([]);
    const healthy = suite(() => mapAdapter('minimal'), true);
    const immortal = suite(immortalStore, true);
    expect(healthy.length).toBe(2);
    for (const test of healthy) await expect(test.run(), test.name).resolves.toBeUndefined();
    for (const test of immortal) await expect(test.run(), test.name).rejects.toBeInstanceOf(AssertionError);
  });
});
