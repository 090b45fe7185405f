import type { StoreInput } from '@org/cache-core';
import { cacheContractSuite, type StoreSubject } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';
import { collectSuite } from './support/collect-suite.js';
import { mapAdapter } from './support/map-adapter.js';

function recordingSubject(events: string[]): StoreSubject<StoreInput> {
  let created = 0;
  return {
    name: 'recorded',
    createStore: () => {
      const store = mapAdapter('full');
      const name = `store${++created}`;
      events.push(`create ${name}`);
      Object.assign(store, { disconnect: async () => events.push(`disconnect ${name}`) });
      (store as unknown as { label: string }).label = name;
      return store;
    },
    cleanup: (store) => {
      events.push(`cleanup ${(store as unknown as { label: string }).label}`);
    },
  };
}

describe('the suite cleans up after every test', () => {
  for (const withHooks of [true, false]) {
    it(`closes caches before cleaning each store up, ${withHooks ? 'in afterEach' : 'in finally'}`, async () => {
      const events: string[] = [];
      const tests = collectSuite((runner) => cacheContractSuite(runner, recordingSubject(events)), withHooks);
      const closeTwice = tests.find((test) => test.name.includes('close is harmless'));
      await closeTwice?.run();
      // The last cache on a store disconnects it (core's ownership rule), then the subject cleans up.
      expect(events).toEqual(['create store1', 'disconnect store1', 'cleanup store1']);
    });
  }

  it('cleans up when a test fails', async () => {
    const events: string[] = [];
    const subject = recordingSubject(events);
    const create = subject.createStore;
    subject.createStore = async () => {
      const store = (await create()) as ReturnType<typeof mapAdapter>;
      // Drops every write, so the round trip cannot pass.
      store.set = async () => true;
      return store;
    };
    const tests = collectSuite((runner) => cacheContractSuite(runner, subject));
    const roundTrip = tests.find((test) => test.name.includes('JSON values round-trip'));
    await expect(roundTrip?.run()).rejects.toThrow();
    expect(events.at(-1)).toBe('cleanup store1');
  });
});
