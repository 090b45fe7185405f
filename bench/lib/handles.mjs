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
