import { type Attributes, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { CacheStore } from '@org/cache-core';

/** A reader the test collects from on demand (the SDK's periodic reader, without the timer). */
class OnDemandReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

export interface Point {
  metric: string;
  attributes: Attributes;
  /** The sum or gauge value; for a histogram, its count. */
  value: number;
  /** For a histogram: the sum of the recorded values. */
  sum?: number;
}

/** A real SDK: a meter provider with an on-demand reader, a tracer provider with the in-memory exporter. */
export function otelSdk() {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    meterProvider,
    tracerProvider,
    tracer: tracerProvider.getTracer('test'),
    async points(): Promise<Point[]> {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
      return resourceMetrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.flatMap((metric) =>
          (metric.dataPoints as Array<DataPoint<unknown>>).map((point) => {
            const value = point.value as number | { count: number; sum?: number };
            return typeof value === 'number'
              ? { metric: metric.descriptor.name, attributes: point.attributes, value }
              : {
                  metric: metric.descriptor.name,
                  attributes: point.attributes,
                  value: value.count,
                  sum: value.sum,
                };
          }),
        ),
      );
    },
    spans(): ReadableSpan[] {
      return spanExporter.getFinishedSpans();
    },
    async shutdown(): Promise<void> {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

export type OtelSdk = ReturnType<typeof otelSdk>;

/** The value of the one point of `metric` whose attributes include `match`; fails on none or several. */
export function pointValue(points: Point[], metric: string, match: Attributes): number {
  const found = points.filter(
    (point) =>
      point.metric === metric &&
      Object.entries(match).every(([name, value]) => point.attributes[name] === value),
  );
  if (found.length !== 1)
    throw new Error(`${found.length} points of ${metric} match ${JSON.stringify(match)}`);
  return (found[0] as Point).value;
}

/** AsyncLocalStorage context propagation, as an application's SDK set-up registers it. */
export function useAsyncContext(): () => void {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  return () => {
    context.disable();
    trace.disable();
  };
}

/**
 * A keyv adapter over a Map whose every operation answers on a later turn (as a network store
 * would): core cannot read it synchronously, so a flight reads the store before it fetches.
 */
export function asyncStore(): CacheStore {
  const map = new Map<string, unknown>();
  const later = <T>(value: T) => new Promise<T>((resolve) => setImmediate(() => resolve(value)));
  return {
    opts: {},
    namespace: undefined,
    on() {
      return this;
    },
    get: (key: string) => later(map.get(key)),
    set: async (key: string, value: unknown) => {
      await later(undefined);
      map.set(key, value);
      return true;
    },
    delete: async (key: string) => later(map.delete(key)),
    clear: async () => map.clear(),
  } as unknown as CacheStore;
}
