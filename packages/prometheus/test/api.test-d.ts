import { createCache } from '@org/cache-core';
import { type CollectorOptions, cacheCollector } from '@org/cache-prometheus';
import type { Registry } from 'prom-client';
import { describe, expectTypeOf, it } from 'vitest';

describe('the @org/cache-prometheus API', () => {
  it('takes one cache or several and the app registry, and returns the dispose function', () => {
    const first = createCache({ store: new Map(), name: 'first' });
    const second = createCache({ store: new Map(), name: 'second' });
    expectTypeOf(cacheCollector(first)).toEqualTypeOf<() => void>();
    expectTypeOf(cacheCollector([first, second], { prefix: 'app_cache_' })).toEqualTypeOf<() => void>();
    expectTypeOf<CollectorOptions['registry']>().toEqualTypeOf<Registry | undefined>();
    // @ts-expect-error: the prefix is a string
    cacheCollector(first, { prefix: 1 });
  });
});
