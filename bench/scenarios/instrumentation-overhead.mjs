import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { instrumentCache } from '@org/cache-otel';
import { KEYS } from '../lib/fixtures.mjs';
import { countingFetchers, pageCheck, populate } from '../lib/kit.mjs';
import { sequential } from '../lib/loops.mjs';
import { median } from '../lib/stats.mjs';

// Collected every 100 ms, far more often than the SDK's 60 s default, so collections land inside
// the measured slices.
const EXPORT_INTERVAL_MS = 100;
const ROUNDS = 15;

/**
 * What `instrumentCache()` costs on the memory hit path (issue 17: < 10% with no SDK listening,
 * < 30% with the SDK's in-memory reader). Three caches in one process, measured in interleaved
 * slices (rotating order, ROUNDS rounds) so the machine's load drifts over all three alike:
 * plain; instrumented with the API's no-op providers (no SDK); instrumented on a real SDK (a
 * periodic in-memory metric reader, an in-memory span exporter). Ratios are per round, medianed.
 * The application's context manager is left out: it is the SDK set-up's cost, paid by every
 * await in the process whether or not the cache is instrumented.
 */
export default {
  name: 'instrumentation-overhead',
  title: 'memory hit with instrumentCache(): no SDK / SDK reader, vs plain',
  tiers: ['memory'],
  subjects: ['memory-ours'],
  async run(_handle, ctx) {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const meterProvider = new MeterProvider({
      readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: EXPORT_INTERVAL_MS })],
    });
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
    });
    const make = (suffix) =>
      createCache({
        store: memoryStore({ maxEntries: ctx.capacity }),
        prefix: `${ctx.prefix}-${suffix}`,
        strategy: ttl(ctx.ttlMs),
      });
    // Three caches built alike (the subject's own handle is not used): same construction, same
    // code paths, so only the instrumentation differs.
    const variants = { plain: make('plain'), noSdk: make('nosdk'), sdk: make('sdk') };
    const stops = [
      instrumentCache(variants.noSdk),
      instrumentCache(variants.sdk, { meterProvider, tracerProvider }),
    ];
    try {
      for (const cache of Object.values(variants)) await populate(cacheCalls(cache), ctx.subject);
      const { fetchers, counter } = countingFetchers();
      const paths = {
        get: (cache) => (index) => cache.get(KEYS[index]),
        getOrSet: (cache) => (index) => cache.getOrSet(KEYS[index], fetchers[index]),
      };
      const slice = Math.max(5, Math.round(ctx.durationMs / 5));
      const result = {};
      for (const [path, callOf] of Object.entries(paths)) {
        const check = pageCheck(ctx.subject, path);
        const calls = Object.fromEntries(
          Object.entries(variants).map(([name, cache]) => [name, callOf(cache)]),
        );
        for (const call of Object.values(calls)) await sequential(call, check, ctx.warmupMs);
        const rates = { plain: [], noSdk: [], sdk: [] };
        const names = Object.keys(calls);
        for (let round = 0; round < ROUNDS; round++) {
          const order = [...names.slice(round % 3), ...names.slice(0, round % 3)];
          for (const name of order) rates[name].push((await sequential(calls[name], check, slice)).opsPerSec);
        }
        const ratios = (name) => median(rates[name].map((rate, round) => rate / rates.plain[round]));
        result[`${path}PlainOpsPerSec`] = median(rates.plain);
        result[`${path}NoSdkOpsPerSec`] = median(rates.noSdk);
        result[`${path}SdkOpsPerSec`] = median(rates.sdk);
        result[`${path}NoSdkRatio`] = ratios('noSdk');
        result[`${path}SdkRatio`] = ratios('sdk');
      }
      if (counter.fetches > 0) throw new Error(`a hit ran its fetcher (${counter.fetches} fetches)`);
      // The SDK must really have collected what it was measured with.
      await meterProvider.forceFlush();
      const hits = exporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
        .filter((metric) => metric.descriptor.name === 'cache.lookups')
        .flatMap((metric) => metric.dataPoints)
        .filter((point) => point.attributes.result === 'hit')
        .reduce((most, point) => Math.max(most, point.value), 0);
      if (hits === 0) throw new Error('the SDK reader saw no cache.lookups hit');
      return result;
    } finally {
      for (const stop of stops) stop();
      await Promise.all(Object.values(variants).map((cache) => cache.close()));
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    }
  },
};

function cacheCalls(cache) {
  return { get: (key) => cache.get(key), set: (key, value) => cache.set(key, value) };
}
