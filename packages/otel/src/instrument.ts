import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api';
import { type Cache, CacheError } from '@org/cache-core';
import { assertCache } from './instrumented-cache.js';
import { registerMetrics } from './metrics.js';
import { registerSpans, type SpanLevel } from './spans.js';

export interface InstrumentOptions {
  /** Default: the global meter provider (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider;
  /** Default: the global tracer provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** `fetches` (default): a span per fetch and per coalesced caller; `all`: store operations too. */
  spans?: SpanLevel;
  /**
   * Report `cache.entries`, counted at each collection by scanning the cache's prefix. Default
   * true; on a Redis with millions of keys, each collection is a full SCAN of the prefix: turn it off.
   */
  entries?: boolean;
}

const INSTRUMENTATION = { name: '@org/cache-otel', version: '0.1.0' } as const;
// Two caches with one name would write the same series: refused per provider.
const namesByProvider = new WeakMap<object, Set<string>>();

/**
 * OpenTelemetry metrics and spans for a cache, on `@opentelemetry/api` only (the SDK is the
 * application's). Metrics carry `cache.name`, `domain` and `bucket` attributes, never a key.
 * Returns the function that stops everything it started.
 *
 * @example
 * const uninstrument = instrumentCache(cache, { spans: 'fetches' });
 */
export function instrumentCache(cache: Cache, options: InstrumentOptions = {}): () => void {
  assertCache(cache);
  const spans = options.spans ?? 'fetches';
  if (spans !== 'fetches' && spans !== 'all')
    throw new CacheError(
      'E_INVALID_OPTION',
      `spans must be 'fetches' or 'all' (got ${JSON.stringify(spans)})`,
    );
  const entries = options.entries ?? true;
  if (typeof entries !== 'boolean') throw new CacheError('E_INVALID_OPTION', 'entries must be a boolean');
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  const names = namesByProvider.get(meterProvider) ?? new Set<string>();
  if (names.has(cache.name)) {
    throw new CacheError(
      'E_INVALID_OPTION',
      `a cache named ${cache.name} is already instrumented on this meter provider: give each cache its own name (createCache({ name }))`,
    );
  }
  names.add(cache.name);
  namesByProvider.set(meterProvider, names);

  const meter = meterProvider.getMeter(INSTRUMENTATION.name, INSTRUMENTATION.version);
  const tracer = tracerProvider.getTracer(INSTRUMENTATION.name, INSTRUMENTATION.version);
  const stopMetrics = registerMetrics(meter, cache, { entries });
  const stopSpans = registerSpans(tracer, cache.name, spans);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    stopMetrics();
    stopSpans();
    names.delete(cache.name);
  };
}
