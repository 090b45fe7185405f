import { describe, expect, it } from 'vitest';
import { fetchJson, waitFor } from './support/http.js';
import { bffOnPrivateRedis } from './support/private-redis.js';

describe('the BFF on Redis (tiered) when Redis dies', { timeout: 60_000 }, () => {
  const deployment = bffOnPrivateRedis({ CACHE_TIER: 'tiered' });

  it('reports 503 on /health but keeps answering reads from the source, then recovers', async () => {
    expect((await fetchJson(`${deployment.service.url}/health`)).status).toBe(200);
    await deployment.client.getOk('/api/orders/001BEFORE');

    await deployment.redis.kill(); // the server we started, by pid

    const down = await waitFor('GET /health to turn 503', async () => {
      const answer = await fetchJson<{ status: string; store: { status: string; reason?: string } }>(
        `${deployment.service.url}/health`,
      );
      return answer.status === 503 ? answer.body : undefined;
    });
    expect(down.status).toBe('down');
    expect(down.store.status).toBe('down');
    expect(typeof down.store.reason).toBe('string');

    // Reads fall back to Salesforce: an account never cached, and one cached before the outage.
    const fresh = await fetchJson<{ orders: unknown[] }>(`${deployment.service.url}/api/orders/001DURING`);
    expect(fresh.status).toBe(200);
    expect(fresh.body.orders.length).toBeGreaterThan(0);
    expect((await fetchJson(`${deployment.service.url}/api/orders/001BEFORE`)).status).toBe(200);
    expect((await fetchJson(`${deployment.service.url}/api/catalog/bundles/0BNDOWN`)).status).toBe(200);
    const dashboard = await deployment.client.dashboard();
    expect(dashboard.health.store.status).toBe('down');

    await deployment.redis.restart();
    await waitFor(
      'GET /health to be 200 again',
      async () => ((await fetchJson(`${deployment.service.url}/health`)).status === 200 ? true : undefined),
      20_000,
    );
    // Caching again: the first read fills the store, the second is a hit.
    await deployment.client.getOk('/api/orders/001AFTER');
    expect(await deployment.client.callsFor('/api/orders/001AFTER')).toBe(0);
  });
});
