import assert from 'node:assert/strict';
import type { CacheStore } from '@org/cache-core';
import { adapterCapabilityTests } from './adapter-capabilities.js';
import { assertAbsentSync, capabilitiesOf, requireCapability, sleep } from './assertions.js';
import { defineTest, type StoreSubject, type TestRunner } from './runner.js';

// Values a serializing store (Redis) must give back byte for byte: core stores JSON text.
const textValues = [
  'plain',
  '',
  '0',
  'false',
  'null',
  '{"v":1,"value":0}',
  'ключ 日本語 🚀',
  'x'.repeat(100_000),
];

/**
 * The raw keyv adapter level: what core relies on from any store, before any envelope. Optional
 * keyv methods (`has`, `getMany`, ...) are checked when the adapter has them, as core uses them
 * only then.
 */
export function adapterContractSuite(runner: TestRunner, subject: StoreSubject<CacheStore>): void {
  const flags = subject.capabilities ?? {};
  runner.describe(`${subject.name}: store adapter contract`, () => {
    const test = defineTest(runner, subject);

    test('the declared capabilities match what the store advertises', async ({ store }) => {
      const capabilities = capabilitiesOf(await store());
      const advertised = {
        scan: typeof capabilities?.scan === 'function',
        memoryUsage: typeof capabilities?.memoryUsage === 'function',
        syncRead: typeof capabilities?.getSync === 'function',
        structuredValues: capabilities?.structuredValues === true,
      };
      const declared = {
        scan: flags.scan === true,
        memoryUsage: flags.memoryUsage === true,
        syncRead: flags.syncRead === true,
        structuredValues: flags.structuredValues === true,
      };
      assert.deepEqual(
        advertised,
        declared,
        'set capabilities flags to what the store advertises, so they are tested',
      );
      if (capabilities) assert.ok(typeof capabilities.name === 'string' && capabilities.name.length > 0);
    });

    test('get of a missing key is undefined', async ({ store, id }) => {
      assert.equal(await (await store()).get(`${id}:missing`), undefined);
    });

    test('set then get gives back the value as stored, falsy-looking text included', async ({
      store,
      id,
    }) => {
      const adapter = await store();
      for (const [index, value] of textValues.entries()) {
        await adapter.set(`${id}:${index}`, value);
        const read = await adapter.get(`${id}:${index}`);
        if (flags.envelopeTextParsed && value.startsWith('{"v":') && typeof read === 'object') {
          assert.deepEqual(read, JSON.parse(value), `value #${index}`);
        } else {
          assert.equal(read, value, `value #${index}`);
        }
      }
    });

    test('set overwrites', async ({ store, id }) => {
      const adapter = await store();
      await adapter.set(`${id}:k`, 'first');
      await adapter.set(`${id}:k`, 'second');
      assert.equal(await adapter.get(`${id}:k`), 'second');
    });

    test('keys with colons, glob characters and unicode are stored as they are', async ({ store, id }) => {
      const adapter = await store();
      const literal = `${id}:a*b?[c]\\d:ключ:🔑`;
      const lookalike = `${id}:aXb?[c]\\d:ключ:🔑`;
      await adapter.set(literal, 'literal');
      assert.equal(await adapter.get(literal), 'literal');
      assert.equal(await adapter.get(lookalike), undefined);
    });

    test('delete is true for a present key, false for a missing one, and the key is gone', async ({
      store,
      id,
    }) => {
      const adapter = await store();
      await adapter.set(`${id}:k`, '');
      assert.equal(await adapter.delete(`${id}:k`), true);
      assert.equal(await adapter.get(`${id}:k`), undefined);
      assert.equal(await adapter.delete(`${id}:k`), false);
    });

    test('has, when implemented, tells present from missing (falsy values included)', async ({
      store,
      id,
    }) => {
      const adapter = await store();
      if (typeof adapter.has !== 'function') return;
      await adapter.set(`${id}:k`, '');
      assert.equal(await adapter.has(`${id}:k`), true);
      assert.equal(await adapter.has(`${id}:missing`), false);
    });

    test('getMany, when implemented, keeps order and gives undefined for misses', async ({ store, id }) => {
      const adapter = await store();
      if (typeof adapter.getMany !== 'function') return;
      await adapter.set(`${id}:a`, 'A');
      await adapter.set(`${id}:c`, '');
      assert.deepEqual(await adapter.getMany([`${id}:a`, `${id}:b`, `${id}:c`]), ['A', undefined, '']);
    });

    test('setMany, when implemented, writes every entry', async ({ store, id }) => {
      const adapter = await store();
      if (typeof adapter.setMany !== 'function') return;
      await adapter.setMany([
        { key: `${id}:a`, value: 'A' },
        { key: `${id}:b`, value: '0' },
      ]);
      assert.equal(await adapter.get(`${id}:a`), 'A');
      assert.equal(await adapter.get(`${id}:b`), '0');
    });

    test('deleteMany, when implemented, removes every key given and no other', async ({ store, id }) => {
      const adapter = await store();
      if (typeof adapter.deleteMany !== 'function') return;
      for (const name of ['a', 'b', 'c']) await adapter.set(`${id}:${name}`, name);
      await adapter.deleteMany([`${id}:a`, `${id}:b`, `${id}:missing`]);
      assert.equal(await adapter.get(`${id}:a`), undefined);
      assert.equal(await adapter.get(`${id}:b`), undefined);
      assert.equal(await adapter.get(`${id}:c`), 'c');
    });

    if (flags.structuredValues) {
      test('structured values come back as stored, without serialization', async ({ store, id }) => {
        const adapter = await store();
        const value = { v: 1, value: { zero: 0, no: false, none: null, list: [1, 'two'] } };
        await adapter.set(`${id}:k`, value);
        assert.deepEqual(await adapter.get(`${id}:k`), value);
      });
    }

    if (flags.ttl) {
      test('an entry expires after its ttl; one without ttl stays', async ({ store, id }) => {
        const adapter = await store();
        await adapter.set(`${id}:short`, 'v', 50);
        await adapter.set(`${id}:forever`, 'v');
        assert.equal(await adapter.get(`${id}:short`), 'v', 'readable before its ttl');
        await sleep(120);
        assert.equal(await adapter.get(`${id}:short`), undefined);
        assert.equal(await adapter.get(`${id}:forever`), 'v');
        if (flags.syncRead) assertAbsentSync(requireCapability(adapter, 'getSync')(`${id}:short`));
      });
    }

    adapterCapabilityTests(test, flags);
  });
}
