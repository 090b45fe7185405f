/** Baseline of the memory tier: what a hand-written Map cache costs (no TTL, no bound, no coalescing). */
export default {
  name: 'raw Map',
  tier: 'memory',
  baseline: true,
  packages: [],
  config: '`new Map()`; getOrSet = `map.get()`, else await the fetcher and `map.set()`',
  async setup() {
    const map = new Map();
    const load = async (key, fetcher) => {
      const value = await fetcher();
      map.set(key, value);
      return value;
    };
    return {
      get: (key) => map.get(key),
      set: (key, value) => {
        map.set(key, value);
      },
      // A hit is answered synchronously: this is the ceiling the other subjects are compared to.
      getOrSet: (key, fetcher) => {
        const hit = map.get(key);
        return hit !== undefined ? hit : load(key, fetcher);
      },
      async teardown() {},
    };
  },
};
