/** What subjects hand the scenarios, where several subjects build it the same way. */

/**
 * The handle of an "ours" subject: the cache's own calls, and the cache itself (the CDC scenarios
 * build an invalidator on it). `teardown` closes the cache unless given.
 */
export function cacheHandle(cache, teardown = () => cache.close()) {
  return {
    cache,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSet: (key, fetcher) => cache.getOrSet(key, fetcher),
    loadPage: (keys, fetchMany) => cache.getManyOrSet(keys, fetchMany),
    freshness: {
      eagerRefresh: (key, fetcher, p) =>
        cache.getOrSet(key, fetcher, { ttl: p.ttlMs, eagerRefresh: p.refreshFraction }),
      softTimeout: (key, fetcher, p) =>
        cache.getOrSet(key, fetcher, { ttl: p.ttlMs, grace: p.graceMs, softTimeout: p.softTimeoutMs }),
    },
    teardown,
  };
}

/*
 * `freshness`: the ways a subject keeps a hot key fresh, by name, each a getOrSet taking the
 * hot-key-expiry scenario's parameters `p` ({ ttlMs, graceMs, softTimeoutMs, refreshFraction }),
 * so every subject is configured from the same numbers. Only subjects with such a feature have it.
 */

/**
 * bentocache 1.6: grace with `timeout: 0` (its default: a graced value is returned at once and the
 * factory runs in the background; the `earlyExpiration` of its 0.x releases is gone since 1.0) and
 * grace with a soft `timeout`.
 */
export function bentoFreshness(bento) {
  return {
    swr: (key, factory, p) => bento.getOrSet({ key, factory, ttl: p.ttlMs, grace: p.graceMs, timeout: 0 }),
    softTimeout: (key, factory, p) =>
      bento.getOrSet({ key, factory, ttl: p.ttlMs, grace: p.graceMs, timeout: p.softTimeoutMs }),
  };
}

/**
 * cache-manager 7: `wrap(key, fn, ttl, refreshThreshold)` refreshes in the background once the
 * remaining ttl is below the threshold: `(1 - refreshFraction) * ttl` refreshes at the same point
 * of the entry's life as our `eagerRefresh: refreshFraction`.
 */
export function cacheManagerFreshness(cache) {
  return {
    refreshThreshold: (key, fetcher, p) =>
      cache.wrap(key, fetcher, p.ttlMs, Math.round(p.ttlMs * (1 - p.refreshFraction))),
  };
}

/** getOrSet as an application without a cache library writes it over a client's get and set. */
export function handWrittenGetOrSet(get, set) {
  return async (key, fetcher) => {
    const hit = await get(key);
    if (hit !== undefined) return hit;
    const value = await fetcher();
    await set(key, value);
    return value;
  };
}

/**
 * A batch get-or-set as an application writes it over a multi-get and a multi-set (cache-manager
 * has mget/mset but no batch wrap): one read, one upstream call for the misses, one write. No
 * coalescing with concurrent loads and no protection against stale writes: just the round trips.
 */
export function handWrittenLoadPage(getMany, setMany) {
  return async (keys, fetchMany) => {
    const values = await getMany(keys);
    const missing = keys.filter((_, index) => values[index] === undefined);
    if (missing.length === 0) return values;
    const fetched = await fetchMany(missing);
    await setMany(missing.map((key, index) => ({ key, value: fetched[index] })));
    const byKey = new Map(missing.map((key, index) => [key, fetched[index]]));
    return keys.map((key, index) => values[index] ?? byKey.get(key));
  };
}
