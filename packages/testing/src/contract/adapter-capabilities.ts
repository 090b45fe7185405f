import assert from 'node:assert/strict';
import type { CacheStore } from '@org/cache-core';
import { syncUnknown } from '@org/cache-core/adapter';
import { assertAbsentSync, collect, requireCapability } from './assertions.js';
import type { DefineTest, StoreContractCapabilities } from './runner.js';

/** The optional capabilities core reads from `[storeCapabilities]`, each behind its flag. */
export function adapterCapabilityTests(test: DefineTest<CacheStore>, flags: StoreContractCapabilities): void {
  if (flags.syncRead) {
    test('getSync reads what set stored, and undefined (or syncUnknown) for missing or deleted keys', async ({
      store,
      id,
    }) => {
      const adapter = await store();
      const getSync = requireCapability(adapter, 'getSync');
      await adapter.set(`${id}:k`, '');
      await adapter.set(`${id}:n`, '{"v":1}');
      // A two-tier store whose fast tier only keeps what it read (tiered with coherence: 'tracking')
      // answers syncUnknown ("ask me asynchronously") until a read brought the key in; never
      // anything else than the stored value.
      if (getSync(`${id}:k`) === syncUnknown) await adapter.get(`${id}:k`);
      if (getSync(`${id}:n`) === syncUnknown) await adapter.get(`${id}:n`);
      assert.deepEqual(getSync(`${id}:k`), await adapter.get(`${id}:k`));
      assert.equal(getSync(`${id}:k`), '');
      const envelopeLike = getSync(`${id}:n`);
      if (flags.envelopeTextParsed && typeof envelopeLike === 'object')
        assert.deepEqual(envelopeLike, { v: 1 });
      else assert.equal(envelopeLike, '{"v":1}');
      assertAbsentSync(getSync(`${id}:missing`));
      await adapter.delete(`${id}:k`);
      assertAbsentSync(getSync(`${id}:k`));
    });
  }

  if (flags.scan) {
    test('scan matches a prefix glob and never crosses the prefix boundary', async ({ store, id }) => {
      const adapter = await store();
      const scan = requireCapability(adapter, 'scan');
      for (const key of ['bff:a', 'bff:b:c', 'bffx:k', 'bf:z', 'xbff:a'])
        await adapter.set(`${id}${key}`, 'v');
      assert.deepEqual(await collect(scan(`${id}bff:*`)), [`${id}bff:a`, `${id}bff:b:c`]);
      assert.deepEqual(await collect(scan(`${id}bffx:*`)), [`${id}bffx:k`]);
    });

    test('scan supports ?, [..] classes and yields every key in small batches', async ({ store, id }) => {
      const adapter = await store();
      const scan = requireCapability(adapter, 'scan');
      for (const key of ['a', 'b', 'c', 'ab']) await adapter.set(`${id}:${key}`, 'v');
      assert.deepEqual(await collect(scan(`${id}:?`)), [`${id}:a`, `${id}:b`, `${id}:c`]);
      assert.deepEqual(await collect(scan(`${id}:[ab]`)), [`${id}:a`, `${id}:b`]);
      assert.deepEqual(await collect(scan(`${id}:[^ab]`)), [`${id}:c`]);
      assert.deepEqual(await collect(scan(`${id}:*`, { batchSize: 1 })), [
        `${id}:a`,
        `${id}:ab`,
        `${id}:b`,
        `${id}:c`,
      ]);
    });

    test('scan treats escaped glob characters as literals', async ({ store, id }) => {
      const adapter = await store();
      const scan = requireCapability(adapter, 'scan');
      for (const key of ['a*b', 'aXb', 'a?b', 'a[b]', 'a\\b']) await adapter.set(`${id}:${key}`, 'v');
      assert.deepEqual(await collect(scan(`${id}:a\\*b`)), [`${id}:a*b`]);
      assert.deepEqual(await collect(scan(`${id}:a\\?b`)), [`${id}:a?b`]);
      assert.deepEqual(await collect(scan(`${id}:a\\[b\\]`)), [`${id}:a[b]`]);
      assert.deepEqual(await collect(scan(`${id}:a\\\\b`)), [`${id}:a\\b`]);
    });

    test('scan does not yield deleted keys, and yields nothing when nothing matches', async ({
      store,
      id,
    }) => {
      const adapter = await store();
      const scan = requireCapability(adapter, 'scan');
      await adapter.set(`${id}:kept`, 'v');
      await adapter.set(`${id}:gone`, 'v');
      await adapter.delete(`${id}:gone`);
      assert.deepEqual(await collect(scan(`${id}:*`)), [`${id}:kept`]);
      assert.deepEqual(await collect(scan(`${id}:nothing*`)), []);
    });
  }

  if (flags.memoryUsage) {
    test('memoryUsage is positive for present keys and undefined for missing ones, in order', async ({
      store,
      id,
    }) => {
      const adapter = await store();
      const memoryUsage = requireCapability(adapter, 'memoryUsage');
      await adapter.set(`${id}:small`, 'v');
      await adapter.set(`${id}:large`, 'x'.repeat(10_000));
      const [small, missing, large] = await memoryUsage([`${id}:small`, `${id}:missing`, `${id}:large`]);
      assert.equal(missing, undefined);
      assert.ok(typeof small === 'number' && small > 0, `small: ${small}`);
      assert.ok(
        typeof large === 'number' && large >= 10_000,
        `a 10,000-byte value uses at least that: ${large}`,
      );
      assert.deepEqual(await memoryUsage([]), []);
    });
  }
}
