// The quick start: what the SDK does for a backend-for-frontend, printed step by step.
// Runs on the in-memory store, or on Redis when REDIS_URL is set.
// Plain `node main.js` after `pnpm build`: the packages are real ESM builds, no loader involved.
import { createCache, eventDriven, loadCacheEnv, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import { z } from 'zod';

const env = loadCacheEnv();

function chooseStore() {
  if (env.redisUrl === undefined)
    return { store: memoryStore({ maxEntries: 10_000 }), label: 'in-memory store' };
  return { store: redisStore({ url: env.redisUrl }), label: `Redis at ${new URL(env.redisUrl).host}` };
}

/** A slow upstream (Salesforce in the real service) that counts its calls. */
const salesforce = {
  calls: 0,
  async orderSummaries(accountId) {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 150));
    const orders = [
      { id: `${accountId}-1`, accountId, total: 120.5, status: 'Activated', productIds: ['01tA'] },
    ];
    // Only ACME has ordered product 01tB: its change must not touch the other accounts.
    if (accountId === '001ACME')
      orders.push({ id: `${accountId}-2`, accountId, total: 0, status: 'Draft', productIds: ['01tB'] });
    return orders;
  },
};

const orderSummary = z.object({
  id: z.string(),
  accountId: z.string(),
  total: z.number(),
  status: z.string(),
  productIds: z.array(z.string()),
});

const { store, label } = chooseStore();
// Short-lived tag tokens: the demo leaves nothing behind in a shared Redis for long.
const cache = createCache({ store, prefix: 'quickstart', strategy: ttl('5m'), tagTtl: '1h' });
const orders = cache.domain('orders', {
  strategy: eventDriven({ safetyTtl: env.safetyTtlMs }),
  buckets: { summaries: { schema: z.array(orderSummary) } },
});
const summaries = orders.buckets.summaries;
const productTags = (list) => list.flatMap((order) => order.productIds.map((id) => `product:${id}`));
const load = (accountId) =>
  summaries.getOrSet(accountId, () => salesforce.orderSummaries(accountId), { tags: productTags });

console.log(`@org/cache quick start on the ${label}\n`);

const started = performance.now();
const results = await Promise.all(Array.from({ length: 100 }, () => load('001ACME')));
const elapsed = Math.round(performance.now() - started);
console.log(
  `1. 100 concurrent requests for account 001ACME -> ${salesforce.calls} Salesforce call (${elapsed} ms), ${results.length} answers`,
);

await load('001ACME');
console.log(`2. The next request is served from the cache   -> still ${salesforce.calls} call`);

await summaries.invalidate('001ACME');
await load('001ACME');
console.log(`3. A change event invalidates the account       -> refetched, ${salesforce.calls} calls`);

await Promise.all([load('001GLOBEX'), load('001INITECH')]);
await orders.invalidateTags(['product:01tB']);
const callsBefore = salesforce.calls;
await Promise.all([load('001ACME'), load('001GLOBEX'), load('001INITECH')]);
console.log(
  `4. Product 01tB changes (tag invalidation)      -> ${salesforce.calls - callsBefore} of 3 accounts refetch (only ACME ordered it)`,
);

console.log('\n5. Stats snapshot (the health payload of the service):');
console.log(JSON.stringify(orders.stats(), null, 2));
console.log('\nStore health:', JSON.stringify(await cache.health()));

await cache.deleteByPattern('*');
await cache.close();
