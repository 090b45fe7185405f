import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BffClient } from './support/bff-client.js';
import { changeEvent } from './support/change-events.js';
import { fetchJson, postJson, waitFor } from './support/http.js';
import { bffOnPrivateRedis } from './support/private-redis.js';
import { cacheScenarios } from './support/scenarios.js';
import { type BffProcess, startBff } from './support/service.js';

describe('the BFF on Redis with CACHE_TIER=tiered', { timeout: 30_000 }, () => {
  const deployment = bffOnPrivateRedis({ CACHE_TIER: 'tiered' });

  it('runs on the tiered store, with change events through the Redis stream', async () => {
    expect(deployment.service.output()).toMatch(
      /store: +tiered: memory L1 \+ redis 127\.0\.0\.1:\d+ \(tiered\)/,
    );
    expect(deployment.service.output()).toMatch(
      /cdc source: redis-stream bff:cdc \(group bff, consumer \S+\)/,
    );
    expect((await deployment.client.dashboard()).store.kind).toBe('tiered');
  });

  it('publishes POST /dev/cdc to the stream, and the consumer group applies it', async () => {
    const { orders } = await deployment.client.getOk<{ orders: Array<{ id: string }> }>(
      '/api/orders/001STREAM',
    );
    const { status, body } = await postJson<{ via: string; stream: string; entryId: string }>(
      `${deployment.service.url}/dev/cdc`,
      changeEvent({ entity: 'Order', ids: [orders[0]?.id as string] }),
    );
    expect(status).toBe(202);
    expect(body).toEqual({
      via: 'redis-stream',
      stream: 'bff:cdc',
      entryId: expect.stringMatching(/^\d+-\d+$/),
    });
    const applied = await waitFor('the consumer to apply the entry', async () => {
      const recent = (await deployment.client.dashboard()).invalidations.recent;
      return recent.find((entry) => entry.ids !== '*' && entry.ids.includes(orders[0]?.id as string));
    });
    expect(applied).toMatchObject({ entity: 'Order', status: 'applied' });
    expect(await deployment.client.callsFor('/api/orders/001STREAM')).toBe(1);
    const health = await fetchJson<{
      subscriber: { sources: Record<string, { status: string; group: string }> };
    }>(`${deployment.service.url}/health`);
    expect(health.body.subscriber.sources['redis-stream:bff:cdc']).toMatchObject({
      status: 'up',
      group: 'bff',
    });
  });

  cacheScenarios(() => deployment.client, { safetyTtlSeconds: 43_200 });

  describe('with a second instance on the same Redis', () => {
    let second: BffProcess;
    let other: BffClient;

    beforeAll(async () => {
      second = await startBff({ REDIS_URL: deployment.redis.url, CACHE_TIER: 'tiered' });
      other = new BffClient(second.url);
    }, 30_000);

    afterAll(async () => {
      await second?.stop();
    });

    it('serves what the first instance cached, without a Salesforce call', async () => {
      await deployment.client.getOk('/api/orders/001SHARED');
      expect(await other.callsFor('/api/orders/001SHARED')).toBe(0);
    });

    it('drops its own L1 copy when the other instance applies a change event', async () => {
      const { orders } = await deployment.client.getOk<{ orders: Array<{ id: string }> }>(
        '/api/orders/001COHERENT',
      );
      // The second instance now holds the entry in its L1.
      expect(await other.callsFor('/api/orders/001COHERENT')).toBe(0);
      expect(await other.callsFor('/api/orders/001COHERENT')).toBe(0);
      const { status } = await postJson(
        `${deployment.service.url}/dev/cdc`,
        changeEvent({ entity: 'Order', ids: [orders[0]?.id as string] }),
      );
      expect(status).toBe(202);
      // Bounded wait for the event (a stream consumer may apply it on either instance) and the bus.
      const deadline = Date.now() + 5_000;
      let refetched = 0;
      while (Date.now() < deadline && refetched === 0) {
        refetched = await other.callsFor('/api/orders/001COHERENT');
        if (refetched === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(refetched).toBe(1);
      // And the first instance reads the second one's fresh entry: no call there.
      expect(await deployment.client.callsFor('/api/orders/001COHERENT')).toBe(0);
    });

    it('keeps 100 concurrent requests split over both instances to 1 Salesforce call', async () => {
      const before = (await deployment.client.salesforceCalls()) + (await other.salesforceCalls());
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, index) =>
          fetchJson(`${index % 2 === 0 ? deployment.service.url : second.url}/api/orders/001TWOSTAMPEDE`),
        ),
      );
      for (const answer of answers) expect(answer.status).toBe(200);
      const after = (await deployment.client.salesforceCalls()) + (await other.salesforceCalls());
      expect(after - before).toBe(1);
    });
  });
});
