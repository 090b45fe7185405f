import {
  type Bucket,
  type BucketStats,
  type CacheError,
  type CacheErrorCode,
  type CacheStats,
  cacheKey,
  createCache,
  type DomainStats,
  eventDriven,
  type FetchContext,
  hybrid,
  isCacheError,
  type Strategy,
  ttl,
} from '@org/cache-core';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';

const orderSummary = z.object({ id: z.string(), total: z.number() });
const orderDetail = z.object({ id: z.string(), placedAt: z.string(), lines: z.array(z.string()) });
type OrderSummary = z.output<typeof orderSummary>;
type OrderDetail = z.output<typeof orderDetail>;

const cache = createCache({ store: new Map(), prefix: 'bff', strategy: ttl('5m') });
const orders = cache.domain('orders', {
  strategy: eventDriven({ safetyTtl: '12h' }),
  buckets: {
    summaries: { schema: z.array(orderSummary) },
    detail: { schema: orderDetail, strategy: hybrid({ ttl: '60s' }) },
    notes: {},
  },
});

describe('createCache', () => {
  it('needs a store', () => {
    // @ts-expect-error a cache without a store does not type-check
    createCache({});
    // @ts-expect-error nor without options at all
    createCache();
    // @ts-expect-error unknown options are refused at the type level too
    createCache({ store: new Map(), ttl: '5m' });
  });

  it('takes typed durations and strategies', () => {
    expectTypeOf(ttl('90s')).toEqualTypeOf<Strategy>();
    expectTypeOf(ttl).toBeCallableWith(500);
    expectTypeOf(ttl).toBeCallableWith('1.5h');
    // @ts-expect-error not a duration unit
    ttl('90 seconds');
    // @ts-expect-error hybrid needs a ttl
    hybrid({});
  });
});

describe('the plain cache API', () => {
  it('types get<T> as Promise<T | undefined>, unknown by default', () => {
    expectTypeOf(cache.get<{ id: number }>('k')).toEqualTypeOf<Promise<{ id: number } | undefined>>();
    expectTypeOf(cache.get('k')).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(cache.getMany<number>(['a', 'b'])).toEqualTypeOf<Promise<Array<number | undefined>>>();
  });

  it("types getOrSet as the fetcher's value, sync or async", () => {
    expectTypeOf(cache.getOrSet('k', () => 42)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.getOrSet('k', async () => ({ id: 'a', n: 1 }))).toEqualTypeOf<
      Promise<{ id: string; n: number }>
    >();
    cache.getOrSet('k', (context) => {
      expectTypeOf(context).toEqualTypeOf<FetchContext>();
      expectTypeOf(context.signal).toEqualTypeOf<AbortSignal>();
      return 1;
    });
  });

  it('types the adaptive context: stale, setTtl, setTags, skip, notModified', () => {
    expectTypeOf(
      cache.getOrSet('k', async (context) => {
        expectTypeOf(context.stale).toEqualTypeOf<
          { readonly value: unknown; readonly age: number } | undefined
        >();
        context.setTtl('10s');
        context.setTags(['product:1']);
        if (context.stale !== undefined) return context.notModified();
        context.skip();
        return { etag: 'a' };
      }),
    ).toEqualTypeOf<Promise<{ etag: string }>>();
    // @ts-expect-error a ttl is a Duration
    cache.getOrSet('k', (context) => context.setTtl(true));
  });

  it('types getManyOrSet as values aligned with the keys, from a Map or an array', () => {
    expectTypeOf(
      cache.getManyOrSet(['a', 'b'], async (keys) => {
        expectTypeOf(keys).toEqualTypeOf<string[]>();
        return new Map(keys.map((key) => [key, { key }]));
      }),
    ).toEqualTypeOf<Promise<Array<{ key: string } | undefined>>>();
    expectTypeOf(
      cache.getManyOrSet(['a'], (keys, { signal }) => {
        expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
        return keys.map(() => 1);
      }),
    ).toEqualTypeOf<Promise<Array<number | undefined>>>();
    expectTypeOf(
      orders.buckets.summaries.getManyOrSet(['acc1', 'acc2'], async (ids) => {
        expectTypeOf(ids).toEqualTypeOf<string[]>();
        return ids.map(() => [{ id: 'o1', total: 1 }]);
      }),
    ).toEqualTypeOf<Promise<Array<OrderSummary[] | undefined>>>();
    // @ts-expect-error the result is a Map or an array
    cache.getManyOrSet(['a'], async () => ({ a: 1 }));
  });

  it('types tags functions with the value', () => {
    cache.getOrSet('k', async () => ({ productIds: ['A'] }), {
      tags: (value) => {
        expectTypeOf(value).toEqualTypeOf<{ productIds: string[] }>();
        return value.productIds.map((id) => `product:${id}`);
      },
      ttl: '90s',
    });
  });

  it('types the rest of the surface', () => {
    expectTypeOf(cache.set('k', 1)).toEqualTypeOf<Promise<void>>();
    expectTypeOf(cache.delete('k')).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(cache.has('k')).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(cache.deleteMany(['k'])).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.countByPattern('*')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.deleteByPattern('*')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.memoryUsageByPattern('*')).toEqualTypeOf<Promise<number>>();
    expectTypeOf(cache.scan('*')).toEqualTypeOf<AsyncIterable<string>>();
    expectTypeOf(cache.stats()).toEqualTypeOf<CacheStats>();
    expectTypeOf(cache.stats().timestamp).toEqualTypeOf<string>();
    expectTypeOf(cacheKey('a', 1)).toEqualTypeOf<string>();
  });

  it('types memoize as the wrapped function, made async', () => {
    const load = cache.memoize(async (id: string, page: number) => ({ id, page }), {
      key: (id, page) => {
        expectTypeOf(id).toEqualTypeOf<string>();
        expectTypeOf(page).toEqualTypeOf<number>();
        return cacheKey('p', id, page);
      },
    });
    expectTypeOf(load).toEqualTypeOf<(id: string, page: number) => Promise<{ id: string; page: number }>>();
  });
});

describe('domain buckets', () => {
  it('types a schema bucket with z.output of its schema', () => {
    expectTypeOf(orders.buckets.summaries).toEqualTypeOf<Bucket<OrderSummary[]>>();
    expectTypeOf(orders.buckets.summaries.get('acc1')).toEqualTypeOf<Promise<OrderSummary[] | undefined>>();
    expectTypeOf(orders.buckets.detail.get(['o1', 'jp'])).toEqualTypeOf<Promise<OrderDetail | undefined>>();
    expectTypeOf(
      orders.buckets.summaries.getOrSet('acc1', async () => [{ id: 'o1', total: 1 }]),
    ).toEqualTypeOf<Promise<OrderSummary[]>>();
  });

  it('types getOrSet on a schema bucket as z.output even when the fetcher returns extra fields', () => {
    // The schema strips `secret` at run time; the type must not promise it.
    const result = orders.buckets.summaries.getOrSet('acc1', async () => [
      { id: 'o1', total: 1, secret: 'x' },
    ]);
    expectTypeOf(result).toEqualTypeOf<Promise<OrderSummary[]>>();
  });

  it('refuses values that do not match a schema bucket', () => {
    // @ts-expect-error total must be a number
    orders.buckets.summaries.set('acc1', [{ id: 'o1', total: '1' }]);
    // @ts-expect-error the fetcher must produce the schema's type
    orders.buckets.detail.getOrSet('o1', async () => ({ id: 1 }));
    // @ts-expect-error no such bucket
    orders.buckets.missing;
  });

  it('lets a schema-less bucket infer from the fetcher', () => {
    expectTypeOf(orders.buckets.notes.getOrSet('n', () => ({ text: 'hi' }))).toEqualTypeOf<
      Promise<{ text: string }>
    >();
    expectTypeOf(orders.buckets.notes.get('n')).toEqualTypeOf<Promise<unknown>>();
  });

  it('takes string, number and array ids', () => {
    expectTypeOf(orders.buckets.notes.invalidate).toBeCallableWith('a');
    expectTypeOf(orders.buckets.notes.invalidate).toBeCallableWith(42);
    expectTypeOf(orders.buckets.notes.invalidate).toBeCallableWith(['acc_001', 'jp']);
    expectTypeOf(orders.buckets.notes.invalidateAll()).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error an object is not an id
    orders.buckets.notes.get({ id: 1 });
  });

  it('types domain stats in the health payload shape', () => {
    const stats = orders.stats();
    expectTypeOf(stats).toExtend<DomainStats>();
    expectTypeOf(stats.timestamp).toEqualTypeOf<string>();
    expectTypeOf(stats.metrics.invalidations).toEqualTypeOf<number>();
    // Each bucket's stats are typed by name: no narrowing from `BucketStats | number` needed.
    expectTypeOf(stats.metrics.summaries).toEqualTypeOf<BucketStats>();
    expectTypeOf(stats.metrics.summaries.hits).toEqualTypeOf<number>();
    expectTypeOf(stats.ttl).toEqualTypeOf<{
      summaries: number | null;
      detail: number | null;
      notes: number | null;
    }>();
    // @ts-expect-error no such bucket
    stats.metrics.invoices;
  });
});

describe('errors', () => {
  it('gives CacheError a typed code', () => {
    expectTypeOf<CacheError['code']>().toEqualTypeOf<CacheErrorCode>();
    expectTypeOf<'E_INVALID_KEY'>().toExtend<CacheErrorCode>();
    expectTypeOf<'E_NOT_A_CODE'>().not.toExtend<CacheErrorCode>();
    const error: unknown = new Error('x');
    if (isCacheError(error)) expectTypeOf(error).toEqualTypeOf<CacheError>();
    expectTypeOf(isCacheError).toBeCallableWith(error, 'E_STORE_TIMEOUT');
  });
});
