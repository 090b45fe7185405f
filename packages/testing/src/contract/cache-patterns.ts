import assert from 'node:assert/strict';
import { type Cache, escapeGlob, isCacheError } from '@org/cache-core';
import { assertRejectsWith, collectKeys, describeError } from './assertions.js';
import { type CacheTestBody, canList } from './cache-fixture.js';

type Register = (name: string, body: CacheTestBody) => void;

/**
 * Pattern operations, scoped to the prefix, with internal keys hidden. A store core cannot list
 * (no scan, no iterator) must refuse them with E_UNSUPPORTED instead.
 */
export function cachePatternTests(test: Register): void {
  test('pattern operations work, or are refused with E_UNSUPPORTED on a store that cannot list keys', async (open) => {
    const { cache, store } = await open();
    await cache.set('orders:1', 1);
    if (canList(store)) {
      assert.deepEqual(await collectKeys(cache.scan('orders:*')), ['orders:1']);
      return;
    }
    await assertRejectsWith(() => cache.countByPattern('*'), 'E_UNSUPPORTED', 'countByPattern');
    await assertRejectsWith(() => cache.deleteByPattern('*'), 'E_UNSUPPORTED', 'deleteByPattern');
  });

  test('prefixes on one store never see, count or delete each other’s keys', async (open, { id }) => {
    const bff = await open({ prefix: `${id}bff` });
    if (!canList(bff.store)) return;
    // `bffx` and `bff-archive` extend `bff`: a scan of `bff*` without the separator would reach them.
    const bffx = await open({ prefix: `${id}bffx`, store: bff.store });
    const archive = await open({ prefix: `${id}bff-archive`, store: bff.store });
    await bff.cache.set('k', 'bff');
    await bff.cache.set('orders:1', 'bff');
    await bffx.cache.set('k', 'bffx');
    await bffx.cache.set('other', 'bffx');
    await archive.cache.set('orders:2', 'archive');

    assert.equal(await bff.cache.get('k'), 'bff');
    assert.equal(await bffx.cache.get('k'), 'bffx');
    assert.deepEqual(await collectKeys(bff.cache.scan('*')), ['k', 'orders:1']);
    assert.deepEqual(await collectKeys(bffx.cache.scan('*')), ['k', 'other']);
    assert.deepEqual(await collectKeys(archive.cache.scan('*')), ['orders:2']);
    assert.equal(await bff.cache.countByPattern('*'), 2);
    assert.equal(await bff.cache.countByPattern('orders:*'), 1);
    assert.equal(await bffx.cache.countByPattern('orders:*'), 0);
    assert.ok((await bff.cache.memoryUsageByPattern('*')) > 0);
    assert.equal(await bffx.cache.memoryUsageByPattern('orders:*'), 0);

    assert.equal(await bff.cache.deleteByPattern('*'), 2);
    assert.deepEqual(await collectKeys(bff.cache.scan('*')), []);
    assert.deepEqual(await collectKeys(bffx.cache.scan('*')), ['k', 'other']);
    assert.deepEqual(await collectKeys(archive.cache.scan('*')), ['orders:2']);
    assert.equal(await bffx.cache.get('k'), 'bffx');
    assert.equal(await archive.cache.get('orders:2'), 'archive');
  });

  test('glob characters in an escaped id are literal: deleteByPattern removes that key only', async (open) => {
    const { cache, store } = await open();
    if (!canList(store)) return;
    for (const id of ['a*b', 'aXb', 'ab', 'a?b', 'a[b]']) await cache.set(`lit:${id}`, id);
    assert.equal(await cache.countByPattern(`lit:${escapeGlob('a*b')}`), 1);
    assert.equal(await cache.deleteByPattern(`lit:${escapeGlob('a*b')}`), 1);
    assert.equal(await cache.get('lit:a*b'), undefined);
    assert.deepEqual(await cache.getMany(['lit:aXb', 'lit:ab', 'lit:a?b', 'lit:a[b]']), [
      'aXb',
      'ab',
      'a?b',
      'a[b]',
    ]);
    assert.deepEqual(await collectKeys(cache.scan(`lit:${escapeGlob('a[b]')}`)), ['lit:a[b]']);
    assert.deepEqual(
      await collectKeys(cache.scan('lit:a?b')),
      ['lit:a?b', 'lit:aXb'],
      'unescaped, ? is a wildcard',
    );
  });

  test('internal keys (tag versions) never show up in pattern operations', async (open) => {
    const { cache, store } = await open();
    if (!canList(store)) return;
    await cache.set('a', 1, { tags: ['t', 'u'] });
    await cache.getOrSet('b', async () => 2, { tags: ['t'] });
    await cache.set('c', 3);
    await cache.invalidateTags(['u']);
    await cache.set('a', 1, { tags: ['t', 'u'] });

    assert.deepEqual(await collectKeys(cache.scan('*')), ['a', 'b', 'c']);
    assert.equal(await cache.countByPattern('*'), 3);
    assert.equal(await cache.countByPattern('?'), 3);
    await assertInvisible(cache, ':*');
    await assertInvisible(cache, '*:*');
    const bytes = await cache.memoryUsageByPattern('*');
    const oneKeyBytes = await cache.memoryUsageByPattern('c');
    assert.ok(oneKeyBytes > 0 && bytes > oneKeyBytes, `all: ${bytes}, one: ${oneKeyBytes}`);
    assert.equal(await cache.deleteByPattern('*'), 3);
    assert.deepEqual(await collectKeys(cache.scan('*')), []);
    assert.equal(await cache.memoryUsageByPattern('*'), 0);

    await cache.set('d', 4, { tags: ['t'] });
    await cache.invalidateTags(['t']);
    assert.equal(await cache.get('d'), undefined, 'tags still work after deleteByPattern(*)');
  });
}

/** A pattern aimed at the internal key space yields nothing, or is refused as invalid. */
async function assertInvisible(cache: Cache, pattern: string): Promise<void> {
  try {
    const keys = await collectKeys(cache.scan(pattern));
    assert.ok(
      keys.every((key) => !key.startsWith(':') && !key.includes('::')),
      `scan(${pattern}) yielded internal keys: ${keys.join(', ')}`,
    );
    assert.equal(await cache.countByPattern(pattern), keys.length);
  } catch (error) {
    if (!isCacheError(error, 'E_INVALID_PATTERN'))
      throw new Error(`scan(${pattern}): ${describeError(error)}`);
  }
}
