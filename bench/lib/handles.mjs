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
    teardown,
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
