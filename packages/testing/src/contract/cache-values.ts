import assert from 'node:assert/strict';
import { MAX_TTL_MS } from '@org/cache-core';
import { assertRejectsWith } from './assertions.js';
import type { CacheTestBody } from './cache-fixture.js';

type Register = (name: string, body: CacheTestBody) => void;

const jsonValues: ReadonlyArray<[string, unknown]> = [
  ['zero', 0],
  ['negative float', -1.5],
  ['false', false],
  ['true', true],
  ['empty string', ''],
  ['null', null],
  ['empty array', []],
  ['empty object', {}],
  ['falsy array', [0, false, '', null]],
  ['nested object', { a: { b: [1, { c: 'd' }], e: null, f: { g: { h: [[]] } } } }],
  ['unicode', 'ключ 日本語 🚀 \u2028 "quoted" \\ back'],
  ['large string', 'x'.repeat(100_000)],
];

/** Values, keys and the plain key operations, through `createCache`. */
export function cacheValueTests(test: Register): void {
  test('JSON values round-trip exactly, falsy ones included', async (open) => {
    const { cache } = await open();
    for (const [name, value] of jsonValues) {
      await cache.set(`values:${name.replaceAll(' ', '-')}`, value);
      assert.deepEqual(await cache.get(`values:${name.replaceAll(' ', '-')}`), value, name);
    }
    const keys = jsonValues.map(([name]) => `values:${name.replaceAll(' ', '-')}`);
    assert.deepEqual(
      await cache.getMany(keys),
      jsonValues.map(([, value]) => value),
    );
  });

  test('get of a missing key is undefined; has tells present (even null) from missing', async (open) => {
    const { cache } = await open();
    assert.equal(await cache.get('missing'), undefined);
    assert.equal(await cache.has('missing'), false);
    await cache.set('nothing', null);
    await cache.set('no', false);
    assert.equal(await cache.has('nothing'), true);
    assert.equal(await cache.has('no'), true);
  });

  test('set(key, undefined) is refused with E_INVALID_VALUE and stores nothing', async (open) => {
    const { cache } = await open();
    await assertRejectsWith(() => cache.set('k', undefined), 'E_INVALID_VALUE');
    assert.equal(await cache.has('k'), false);
  });

  test('values JSON cannot hold are refused with E_INVALID_VALUE and the previous entry stays', async (open) => {
    const { cache } = await open();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    // toJSON returning its own object: JSON.stringify calls it once; a copy that called it again
    // recursed until the stack overflowed.
    const selfSerializing: Record<string, unknown> = { name: 'self' };
    selfSerializing.toJSON = () => selfSerializing;
    let deepObject: unknown = 'leaf';
    let deepArray: unknown = 'leaf';
    for (let level = 0; level < 100_000; level++) {
      deepObject = { next: deepObject };
      deepArray = [deepArray];
    }
    const refused: Array<[string, unknown]> = [
      ['BigInt', 10n],
      ['nested BigInt', { total: 10n }],
      ['cycle', cyclic],
      ['function', () => 1],
      ['objects nested 100,000 deep', deepObject],
      ['arrays nested 100,000 deep', deepArray],
      ['toJSON returning its own object', { wrapped: selfSerializing }],
    ];
    await cache.set('k', { ok: 1 });
    for (const [name, value] of refused) {
      await assertRejectsWith(() => cache.set('k', value), 'E_INVALID_VALUE', name);
      assert.deepEqual(await cache.get('k'), { ok: 1 }, `${name}: the previous entry stays`);
    }
  });

  test('a ttl longer than any store can hold is refused with E_INVALID_OPTION naming the limit', async (open) => {
    const { cache } = await open();
    await cache.set('k', 'before');
    for (const ttl of [1e300, MAX_TTL_MS + 1]) {
      await assertRejectsWith(() => cache.set('k', 'after', { ttl }), 'E_INVALID_OPTION', `set ttl ${ttl}`);
      await assertRejectsWith(
        () => cache.getOrSet('fetched', () => 'v', { ttl }),
        'E_INVALID_OPTION',
        `getOrSet ttl ${ttl}`,
      );
      await assertRejectsWith(
        () => cache.setMany([{ key: 'k', value: 'after', ttl }]),
        'E_INVALID_OPTION',
        `setMany ttl ${ttl}`,
      );
    }
    await cache.set('k', 'before').catch(() => {});
    const error = await cache.set('k', 'after', { ttl: 1e300 }).catch((caught: unknown) => caught);
    assert.match(
      String((error as Error).message),
      new RegExp(String(MAX_TTL_MS)),
      'the message names the limit',
    );
    assert.equal(await cache.get('k'), 'before', 'the previous entry stays');
    assert.equal(await cache.has('fetched'), false);
    await cache.set('longest', 'kept', { ttl: MAX_TTL_MS });
    assert.equal(await cache.get('longest'), 'kept', 'the longest ttl accepted is really stored');
  });

  test('delete is true for a present key, then false; the key is gone', async (open) => {
    const { cache } = await open();
    await cache.set('k', false);
    assert.equal(await cache.delete('k'), true);
    assert.equal(await cache.get('k'), undefined);
    assert.equal(await cache.delete('k'), false);
  });

  test('getMany keeps order, setMany writes with ttl, deleteMany counts what it removed', async (open) => {
    const { cache, clock } = await open();
    await cache.setMany<unknown>([
      { key: 'a', value: 0 },
      { key: 'b', value: null, ttl: '1m' },
      { key: 'c', value: { n: 'c' } },
    ]);
    assert.deepEqual(await cache.getMany(['a', 'missing', 'b', 'c']), [0, undefined, null, { n: 'c' }]);
    assert.equal(await cache.deleteMany(['a', 'missing']), 1);
    assert.deepEqual(await cache.getMany(['a', 'b']), [undefined, null]);
    clock.advance('61s');
    assert.deepEqual(await cache.getMany(['b', 'c']), [undefined, { n: 'c' }], 'b had a 1m ttl');
  });

  test('keys with glob characters, colons and unicode round-trip and do not collide', async (open) => {
    const { cache } = await open();
    const keys = ['orders:a*b?[c]', 'orders:a\\b', 'каталог:товар:🔑', `long:${'k'.repeat(1_500)}`];
    for (const [index, key] of keys.entries()) await cache.set(key, index);
    for (const [index, key] of keys.entries()) assert.equal(await cache.get(key), index, key);
    assert.equal(await cache.get('orders:aXb?[c]'), undefined);
    assert.equal(await cache.get('orders:a'), undefined);
  });

  test('invalid keys are refused with E_INVALID_KEY, as a rejection', async (open) => {
    const { cache } = await open();
    for (const key of ['', 'a::b', ':a', 'a:', 'tab\there', 'x'.repeat(3_000)]) {
      await assertRejectsWith(
        () => cache.get(key),
        'E_INVALID_KEY',
        `get(${JSON.stringify(key.slice(0, 20))})`,
      );
      await assertRejectsWith(
        () => cache.set(key, 1),
        'E_INVALID_KEY',
        `set(${JSON.stringify(key.slice(0, 20))})`,
      );
    }
  });

  test('mutating the object given to set, or one returned by get, does not change the cache', async (open) => {
    const { cache } = await open();
    const input = { nested: { n: 1 }, list: [1] };
    await cache.set('k', input);
    input.nested.n = 2;
    input.list.push(2);
    assert.deepEqual(await cache.get('k'), { nested: { n: 1 }, list: [1] });

    const read = (await cache.get('k')) as typeof input;
    attempt(() => {
      read.nested.n = 3;
    });
    attempt(() => read.list.push(3));
    assert.deepEqual(await cache.get('k'), { nested: { n: 1 }, list: [1] });

    const fetched = (await cache.getOrSet('f', async () => ({ list: [1] }))) as { list: number[] };
    attempt(() => fetched.list.push(2));
    assert.deepEqual(await cache.get('f'), { list: [1] });
  });

  test('a change to the object made while its set is in flight does not reach the cache', async (open) => {
    const { cache } = await open();
    // Untagged (written at once) and tagged (tag versions are read first, then written).
    for (const options of [undefined, { tags: ['t'] }]) {
      const input = { nested: { n: 1 }, list: [1] };
      const pending = cache.set(`in-flight:${options ? 'tagged' : 'plain'}`, input, options);
      input.nested.n = 2;
      input.list.push(2);
      await pending;
      assert.deepEqual(
        await cache.get(`in-flight:${options ? 'tagged' : 'plain'}`),
        { nested: { n: 1 }, list: [1] },
        `set with ${JSON.stringify(options)}`,
      );
    }
  });

  test('close is harmless twice, and for several caches on one store', async (open, { id }) => {
    const first = await open({ prefix: `${id}a` });
    const second = await open({ prefix: `${id}b`, store: first.store });
    await first.cache.set('k', 1);
    await first.cache.close();
    await first.cache.close();
    await second.cache.close();
    await second.cache.close();
  });

  test('health is up on a working store', async (open) => {
    const { cache } = await open();
    const health = await cache.health();
    assert.equal(health.status, 'up', JSON.stringify(health));
  });
}

/** Values may come back frozen: a mutation that throws is as good as one that is ignored. */
function attempt(mutate: () => unknown): void {
  try {
    mutate();
  } catch {
    // frozen
  }
}
