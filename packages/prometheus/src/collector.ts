import { type Cache, CacheError } from '@org/cache-core';
import { register as defaultRegistry, type Registry } from 'prom-client';
import { MetricSet, metricNames } from './metric-set.js';

export interface CollectorOptions {
  /** The application's registry. Default: prom-client's global `register`. */
  registry?: Registry;
  /** Prepended to every metric name. Default `cache_`. */
  prefix?: string;
  /**
   * Report `<prefix>entries`, counted at each scrape by scanning each cache's prefix. Default
   * true; on a Redis with millions of keys, each scrape is then a full SCAN: turn it off.
   */
  entries?: boolean;
}

const METRIC_PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const sets = new WeakMap<Registry, Map<string, MetricSet>>();

/**
 * Registers the cache metrics of one or several caches in a prom-client registry: lookups by
 * result, fetches, errors, invalidations by kind, a fetch-duration histogram in seconds, in-flight
 * fetches, entries and the store breaker's state, labelled by `cache` (its name), `domain` and
 * `bucket`, never by key. Calling it again for the same registry (another cache, or the same one)
 * adds to the metrics already registered. Returns the function that detaches these caches; the
 * metrics are unregistered when the last cache is detached.
 *
 * @example
 * const dispose = cacheCollector(cache, { registry });
 * app.get('/metrics', async (_, res) => res.type(registry.contentType).send(await registry.metrics()));
 */
export function cacheCollector(caches: Cache | readonly Cache[], options: CollectorOptions = {}): () => void {
  const list = Array.isArray(caches) ? [...caches] : [caches as Cache];
  if (list.length === 0)
    throw new CacheError('E_INVALID_OPTION', 'cacheCollector() needs at least one cache');
  for (const cache of list) {
    if (typeof cache?.stats !== 'function' || typeof cache.name !== 'string')
      throw new CacheError('E_INVALID_OPTION', 'cacheCollector() takes caches made by createCache()');
  }
  const registry = options.registry ?? defaultRegistry;
  if (typeof registry?.metrics !== 'function' || typeof registry.registerMetric !== 'function')
    throw new CacheError('E_INVALID_OPTION', 'registry must be a prom-client Registry');
  const prefix = options.prefix ?? 'cache_';
  if (typeof prefix !== 'string' || !METRIC_PREFIX.test(prefix))
    throw new CacheError(
      'E_INVALID_OPTION',
      `prefix must be a valid metric name start (got ${JSON.stringify(prefix)})`,
    );
  const entries = options.entries ?? true;
  if (typeof entries !== 'boolean') throw new CacheError('E_INVALID_OPTION', 'entries must be a boolean');

  const byPrefix = sets.get(registry) ?? new Map<string, MetricSet>();
  let set = byPrefix.get(prefix);
  if (set === undefined) {
    const taken = metricNames(prefix).filter((name) => registry.getSingleMetric(name) !== undefined);
    if (taken.length > 0) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `the registry already has metrics named ${taken.join(', ')}: choose another prefix`,
      );
    }
    set = new MetricSet({ registry, prefix, entries });
    byPrefix.set(prefix, set);
    sets.set(registry, byPrefix);
  }
  for (const cache of list) {
    const known = set.caches.get(cache.name);
    if (known !== undefined && known.cache !== cache) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `another cache named ${cache.name} is already collected in this registry: give each cache its own name (createCache({ name }))`,
      );
    }
  }
  for (const cache of list) {
    const known = set.caches.get(cache.name);
    if (known === undefined) set.caches.set(cache.name, { cache, attached: 1 });
    else known.attached++;
  }

  const metricSet = set;
  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    for (const cache of list) {
      const known = metricSet.caches.get(cache.name);
      if (known === undefined) continue;
      known.attached--;
      if (known.attached === 0) metricSet.caches.delete(cache.name);
    }
    if (metricSet.caches.size === 0) {
      metricSet.dispose();
      byPrefix.delete(prefix);
    }
  };
}
