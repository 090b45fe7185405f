import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { createCache } from '@org/cache-core';
import { type InstrumentOptions, instrumentCache, type SpanLevel } from '@org/cache-otel';
import { describe, expectTypeOf, it } from 'vitest';

describe('the @org/cache-otel API', () => {
  it('takes a cache and API-only providers, and returns the uninstrument function', () => {
    const cache = createCache({ store: new Map(), name: 'bff' });
    expectTypeOf(instrumentCache(cache)).toEqualTypeOf<() => void>();
    expectTypeOf<InstrumentOptions['meterProvider']>().toEqualTypeOf<MeterProvider | undefined>();
    expectTypeOf<InstrumentOptions['tracerProvider']>().toEqualTypeOf<TracerProvider | undefined>();
    expectTypeOf<SpanLevel>().toEqualTypeOf<'fetches' | 'all'>();
    // @ts-expect-error: only 'fetches' or 'all'
    instrumentCache(cache, { spans: 'none' });
    // @ts-expect-error: a cache is required
    instrumentCache({});
  });
});
