import { expect, it } from 'vitest';
import type { BffClient } from './bff-client.js';
import { changeEvent } from './change-events.js';
import { fetchJson, postJson, waitFor } from './http.js';
import { parsePrometheus } from './prometheus.js';

interface OrderSummaries {
  accountId: string;
  orders: Array<{ id: string; accountId: string }>;
}

interface Bundle {
  id: string;
  items: Array<{ product: { id: string } }>;
}

const BUCKETS = ['summaries', 'detail', 'products', 'bundles', 'invoices', 'availability'];
const BUCKET_IDS = [
  'orders:summaries',
  'orders:detail',
  'catalog:products',
  'catalog:bundles',
  'invoices:invoices',
  'pricing:availability',
];

/**
 * The behaviour every deployment of the service must show, whatever its store and change-event
 * source. `client()` is the running service of the calling file. Ids are unique per test, so the
 * tests share one service without seeing each other's entries.
 */
export function cacheScenarios(client: () => BffClient, expected: { safetyTtlSeconds: number }): void {
  it('answers 100 concurrent requests for one account with exactly 1 Salesforce call', async () => {
    const bff = client();
    const before = (await bff.dashboard()).upstream.salesforce;
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => fetchJson<OrderSummaries>(`${bff.url}/api/orders/001STAMPEDE`)),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    const first = JSON.stringify(answers[0]?.body);
    expect(answers.every((answer) => JSON.stringify(answer.body) === first)).toBe(true);
    expect(answers[0]?.body.orders.length).toBeGreaterThan(0);

    const after = (await bff.dashboard()).upstream.salesforce;
    expect(after.calls - before.calls).toBe(1);
    expect(after.requests - before.requests).toBe(100);
    expect(after.saved - before.saved).toBe(99);
    // Served from the cache from now on.
    expect(await bff.callsFor('/api/orders/001STAMPEDE')).toBe(0);
  });

  it('refetches an account after a change event for one of its orders, and only that account', async () => {
    const bff = client();
    const changed = await bff.getOk<OrderSummaries>('/api/orders/001CDCA');
    await bff.getOk('/api/orders/001CDCB');
    expect(await bff.callsFor('/api/orders/001CDCA')).toBe(0);
    expect(await bff.callsFor('/api/orders/001CDCB')).toBe(0);
    const orderId = changed.orders[0]?.id as string;

    // A real UPDATE carries only the changed fields: no AccountId. The order tag finds the list.
    await bff.sendChangeEvent(
      changeEvent({ entity: 'Order', ids: [orderId], values: { Status: 'Shipped' } }),
    );

    expect(await bff.callsFor('/api/orders/001CDCA')).toBe(1);
    expect(await bff.callsFor('/api/orders/001CDCB')).toBe(0);
    expect(await bff.callsFor('/api/orders/001CDCA')).toBe(0);

    const recent = (await bff.dashboard()).invalidations.recent;
    expect(recent[0]).toMatchObject({
      entity: 'Order',
      kind: 'update',
      ids: [orderId],
      status: 'applied',
      tags: 1,
    });
  });

  it("drops an account's list when an order is created for it (the event's AccountId)", async () => {
    const bff = client();
    await bff.getOk('/api/orders/001NEWA');
    await bff.getOk('/api/orders/001NEWB');
    await bff.sendChangeEvent(
      changeEvent({
        entity: 'Order',
        ids: ['801NEWORDER0001'],
        changeType: 'CREATE',
        changedFields: [],
        values: { AccountId: '001NEWA', Status: 'Draft' },
      }),
    );
    expect(await bff.callsFor('/api/orders/001NEWA')).toBe(1);
    expect(await bff.callsFor('/api/orders/001NEWB')).toBe(0);
  });

  it('drops an order detail on its change event', async () => {
    const bff = client();
    const { orders } = await bff.getOk<OrderSummaries>('/api/orders/001DETAIL');
    const orderId = orders[0]?.id as string;
    await bff.getOk(`/api/orders/001DETAIL/${orderId}`);
    expect(await bff.callsFor(`/api/orders/001DETAIL/${orderId}`)).toBe(0);
    await bff.sendChangeEvent(changeEvent({ entity: 'Order', ids: [orderId] }));
    expect(await bff.callsFor(`/api/orders/001DETAIL/${orderId}`)).toBe(1);
  });

  it('skips an UPDATE that touched only LastModifiedDate: nothing is refetched', async () => {
    const bff = client();
    const { orders } = await bff.getOk<OrderSummaries>('/api/orders/001SKIP');
    const skippedBefore = (await bff.dashboard()).health.subscriber.counters.skipped;
    const { status } = await postJson(
      `${bff.url}/dev/cdc`,
      changeEvent({ entity: 'Order', ids: [orders[0]?.id as string], changedFields: ['LastModifiedDate'] }),
    );
    expect(status).toBe(202);
    await waitFor('the event to be skipped', async () => {
      const skipped = (await bff.dashboard()).health.subscriber.counters.skipped;
      return skipped > skippedBefore ? skipped : undefined;
    });
    expect(await bff.callsFor('/api/orders/001SKIP')).toBe(0);
  });

  it('on a Product2 change, refetches only the bundles that contain the product', async () => {
    const bff = client();
    const bundleIds = ['0BNT01', '0BNT02', '0BNT03', '0BNT04', '0BNT05', '0BNT06', '0BNT07', '0BNT08'];
    // Warmed all at once: their first fetches race to create the tokens of the product tags they
    // share, and the bundles without the product must still be hits afterwards.
    const bundles = await Promise.all(bundleIds.map((id) => bff.getOk<Bundle>(`/api/catalog/bundles/${id}`)));
    const productsOf = new Map(
      bundles.map((bundle) => [bundle.id, bundle.items.map((item) => item.product.id)]),
    );
    // The product in the most bundles that is still missing from at least one.
    const counts = new Map<string, number>();
    for (const products of productsOf.values())
      for (const id of products) counts.set(id, (counts.get(id) ?? 0) + 1);
    const [productId] =
      [...counts].filter(([, count]) => count < bundleIds.length).sort((a, b) => b[1] - a[1])[0] ?? [];
    expect(productId).toBeDefined();
    const containing = bundleIds.filter((id) => productsOf.get(id)?.includes(productId as string));
    const others = bundleIds.filter((id) => !containing.includes(id));
    expect(containing.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    await bff.getOk(`/api/catalog/products/${productId}`);
    await bff.getOk(`/api/pricing/${productId}`);

    await bff.sendChangeEvent(
      changeEvent({
        entity: 'Product2',
        ids: [productId as string],
        changedFields: ['UnitPrice'],
        values: { UnitPrice: 12 },
      }),
    );

    for (const id of containing) expect(await bff.callsFor(`/api/catalog/bundles/${id}`), id).toBe(1);
    for (const id of others) expect(await bff.callsFor(`/api/catalog/bundles/${id}`), id).toBe(0);
    expect(await bff.callsFor(`/api/catalog/products/${productId}`)).toBe(1);
    expect(await bff.callsFor(`/api/pricing/${productId}`)).toBe(1);
  });

  it("GET /api/health/services/cache has exactly the seed's payload shape", async () => {
    const bff = client();
    await bff.getOk('/api/orders/001SHAPE');
    await bff.getOk('/api/orders/001SHAPE');
    const { status, body } = await fetchJson<Record<string, unknown>>(`${bff.url}/api/health/services/cache`);
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['metrics', 'timestamp', 'ttl']);
    expect(typeof body.timestamp).toBe('string');
    expect(new Date(body.timestamp as string).toISOString()).toBe(body.timestamp);

    const metrics = body.metrics as Record<string, unknown>;
    expect(Object.keys(metrics).sort()).toEqual([...BUCKETS, 'invalidations'].sort());
    for (const bucket of BUCKETS) {
      const counters = metrics[bucket] as Record<string, unknown>;
      expect(Object.keys(counters).sort(), bucket).toEqual(['hits', 'misses']);
      expect(Number.isInteger(counters.hits) && (counters.hits as number) >= 0, bucket).toBe(true);
      expect(Number.isInteger(counters.misses) && (counters.misses as number) >= 0, bucket).toBe(true);
    }
    expect(Number.isInteger(metrics.invalidations)).toBe(true);
    const summaries = metrics.summaries as { hits: number; misses: number };
    expect(summaries.hits).toBeGreaterThanOrEqual(1);
    expect(summaries.misses).toBeGreaterThanOrEqual(1);

    const ttl = body.ttl as Record<string, unknown>;
    expect(Object.keys(ttl).sort()).toEqual([...BUCKETS].sort());
    expect(ttl).toEqual({
      summaries: expected.safetyTtlSeconds,
      detail: expected.safetyTtlSeconds,
      products: expected.safetyTtlSeconds,
      bundles: expected.safetyTtlSeconds,
      invoices: 90,
      availability: 60,
    });
  });

  it('counts change events in the payload total', async () => {
    const bff = client();
    const total = async () =>
      (await fetchJson<{ metrics: { invalidations: number } }>(`${bff.url}/api/health/services/cache`)).body
        .metrics.invalidations;
    const before = await total();
    await bff.sendChangeEvent(changeEvent({ entity: 'Account', ids: ['001TOTAL'], changedFields: ['Name'] }));
    expect(await total()).toBeGreaterThan(before);
  });

  it('GET /api/dashboard follows the contract the dashboard page is coded against', async () => {
    const bff = client();
    await bff.getOk('/api/invoices/4242');
    const state = await bff.dashboard();
    expect(Object.keys(state).sort()).toEqual([
      'buckets',
      'health',
      'invalidations',
      'store',
      'timestamp',
      'upstream',
    ]);
    expect(new Date(state.timestamp).toISOString()).toBe(state.timestamp);
    expect(['memory', 'redis', 'tiered']).toContain(state.store.kind);
    expect(typeof state.store.name).toBe('string');
    expect(['up', 'degraded', 'down']).toContain(state.health.status);
    expect(typeof state.health.store.latencyMs).toBe('number');
    expect(Object.keys(state.health.subscriber.counters).sort()).toEqual(
      [
        'processed',
        'ignored',
        'skipped',
        'duplicates',
        'failed',
        'invalid',
        'gaps',
        'overflows',
        'keysInvalidated',
        'tagsInvalidated',
      ].sort(),
    );
    expect(Object.keys(state.buckets).sort()).toEqual([...BUCKET_IDS].sort());
    for (const [id, bucket] of Object.entries(state.buckets)) {
      expect(Object.keys(bucket).sort(), id).toEqual(
        [
          'hits',
          'misses',
          'staleHits',
          'coalescedWaits',
          'fetches',
          'fetchErrors',
          'invalidations',
          'hitRatio',
          'servedWithoutUpstream',
          'fetchLatency',
          'entries',
        ].sort(),
      );
      const reads = bucket.hits + bucket.misses;
      if (reads === 0) expect(bucket.hitRatio, id).toBeNull();
      else expect(bucket.hitRatio, id).toBeCloseTo(bucket.hits / reads, 3);
      // The headline's share: lookups that never reached the upstream (waits and stale serves too).
      const served = Math.min(reads, bucket.hits + bucket.coalescedWaits + bucket.staleHits);
      if (reads === 0) expect(bucket.servedWithoutUpstream, id).toBeNull();
      else expect(bucket.servedWithoutUpstream, id).toBeCloseTo(served / reads, 3);
      expect(Object.keys(bucket.fetchLatency).sort(), id).toEqual(['count', 'p50Ms', 'p99Ms']);
      // A fetch still running is counted in fetches, and in the latency once it ends.
      expect(bucket.fetchLatency.count, id).toBeLessThanOrEqual(bucket.fetches);
      expect(bucket.fetchLatency.p50Ms, id).toBeLessThanOrEqual(bucket.fetchLatency.p99Ms);
      expect(bucket.entries === null || Number.isInteger(bucket.entries), id).toBe(true);
    }
    // The invoice read above is a fetch: its latency is measured (the simulated WHMCS takes time).
    expect(state.buckets['invoices:invoices']?.fetchLatency.p50Ms).toBeGreaterThan(0);
    expect(state.buckets['invoices:invoices']?.misses).toBeGreaterThanOrEqual(1);
    for (const upstream of [state.upstream.salesforce, state.upstream.whmcs]) {
      expect(Object.keys(upstream).sort()).toEqual(['calls', 'failures', 'requests', 'saved']);
      expect(upstream.saved).toBe(upstream.requests - upstream.calls);
    }
    expect(state.upstream.whmcs.calls).toBeGreaterThanOrEqual(1);
    expect(typeof state.invalidations.total).toBe('number');
    expect(state.invalidations.recent.length).toBeLessThanOrEqual(50);
    const times = state.invalidations.recent.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const entry of state.invalidations.recent) {
      expect(Object.keys(entry).sort()).toEqual(['at', 'entity', 'ids', 'keys', 'kind', 'status', 'tags']);
      expect(entry.ids === '*' || Array.isArray(entry.ids)).toBe(true);
    }
  });

  it('counts entries per bucket in the store (every few seconds)', async () => {
    const bff = client();
    await bff.getOk('/api/catalog/products/01tENTRIES');
    const counted = await waitFor('the products bucket to count its entry', async () => {
      const entries = (await bff.dashboard()).buckets['catalog:products']?.entries;
      return typeof entries === 'number' && entries >= 1 ? entries : undefined;
    });
    expect(counted).toBeGreaterThanOrEqual(1);
  });

  it('GET /api/dashboard/history serves the last minutes of samples, oldest first', async () => {
    const bff = client();
    await bff.getOk('/api/orders/001HISTORY');
    // The sampler runs every second from start-up: the read above shows within a few samples.
    const history = await waitFor('a sample that counts the read', async () => {
      const { status, body } = await fetchJson<{
        intervalMs: number;
        samples: Array<{
          t: number;
          events: number;
          calls: number;
          saved: number;
          buckets: Record<string, { hits: number; lookups: number; served: number }>;
        }>;
      }>(`${bff.url}/api/dashboard/history`);
      expect(status).toBe(200);
      const newest = body.samples.at(-1);
      return newest !== undefined && (newest.buckets['orders:summaries']?.lookups ?? 0) >= 1
        ? body
        : undefined;
    });
    expect(history.intervalMs).toBe(1000);
    expect(history.samples.length).toBeGreaterThanOrEqual(1);
    // 5.5 minutes at most, one sample a second: a bounded answer however long the service runs.
    expect(history.samples.length).toBeLessThanOrEqual(331);
    const times = history.samples.map((sample) => sample.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const sample of history.samples) {
      expect(Object.keys(sample).sort()).toEqual(['buckets', 'calls', 'events', 'saved', 't']);
      expect(Object.keys(sample.buckets).sort()).toEqual([...BUCKET_IDS].sort());
      for (const bucket of Object.values(sample.buckets)) {
        expect(bucket.hits).toBeLessThanOrEqual(bucket.served);
        expect(bucket.served).toBeLessThanOrEqual(bucket.lookups);
      }
    }
  });

  it('GET /health reports the store and the change-event subscriber', async () => {
    const bff = client();
    const { status, body } = await fetchJson<{
      status: string;
      store: { status: string; kind: string; latencyMs: number };
      subscriber: { status: string; counters: Record<string, number> };
    }>(`${bff.url}/health`);
    expect(status).toBe(200);
    expect(body.status).toBe('up');
    expect(body.store.status).toBe('up');
    expect(typeof body.store.latencyMs).toBe('number');
    expect(body.subscriber.status).toBe('up');
    expect(typeof body.subscriber.counters.processed).toBe('number');
  });

  it('GET /metrics is Prometheus text with per-bucket counters and no raw keys', async () => {
    const bff = client();
    await bff.getOk('/api/orders/001METRICS');
    await bff.getOk('/api/orders/001METRICS');
    const response = await fetch(`${bff.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const families = parsePrometheus(text);
    for (const family of families.values()) {
      expect(family.help.length, family.name).toBeGreaterThan(0);
      expect(['counter', 'gauge', 'histogram'], family.name).toContain(family.type);
      if (family.type === 'counter') expect(family.name).toMatch(/_total$/);
    }
    // The cache's metrics come from @org/cache-prometheus: hits are lookups with result="hit",
    // and the cache's plain-call (`default`) and domain-wide (`*`) counters are series too.
    const hits = families
      .get('cache_lookups_total')
      ?.samples.filter((sample) => sample.labels.result === 'hit');
    const summaries = hits?.find(
      (sample) => sample.labels.domain === 'orders' && sample.labels.bucket === 'summaries',
    );
    expect(summaries?.value).toBeGreaterThanOrEqual(1);
    const declared = hits?.filter((sample) => sample.labels.domain !== '' && sample.labels.bucket !== '*');
    expect(declared?.map((sample) => `${sample.labels.domain}:${sample.labels.bucket}`).sort()).toEqual(
      [...BUCKET_IDS].sort(),
    );
    expect(families.get('cache_fetch_duration_seconds')?.type).toBe('histogram');
    const calls = families.get('bff_upstream_calls_total')?.samples;
    expect(calls?.map((sample) => sample.labels.upstream).sort()).toEqual(['salesforce', 'whmcs']);
    expect(families.get('bff_cdc_events_total')?.samples.length).toBeGreaterThan(0);
    const health = families.get('bff_health_status')?.samples ?? [];
    expect(health.find((s) => s.labels.component === 'store' && s.labels.status === 'up')?.value).toBe(1);
    // Ids and keys never become labels: not the account, not a key.
    expect(text).not.toContain('001METRICS');
    expect(text).not.toContain('orders:summaries:');
  });

  it('answers bad input with 4xx JSON errors and keeps serving', async () => {
    const bff = client();
    const expectError = async (
      response: Promise<{ status: number; body: unknown }>,
      status: number,
      code: string,
    ) => {
      const { status: actual, body } = await response;
      expect(actual, JSON.stringify(body)).toBe(status);
      expect(body).toEqual({ error: { code, message: expect.any(String) } });
    };
    await expectError(fetchJson(`${bff.url}/api/nothing-here`), 404, 'NOT_FOUND');
    await expectError(
      fetchJson(`${bff.url}/api/orders/001ACME`, { method: 'DELETE' }),
      405,
      'METHOD_NOT_ALLOWED',
    );
    await expectError(fetchJson(`${bff.url}/api/orders/not-an-id!`), 400, 'INVALID_ID');
    await expectError(fetchJson(`${bff.url}/api/orders/${'A'.repeat(19)}`), 400, 'INVALID_ID');
    await expectError(fetchJson(`${bff.url}/api/orders/001ACME/80*1`), 400, 'INVALID_ID');
    await expectError(fetchJson(`${bff.url}/api/invoices/abc`), 400, 'INVALID_ID');
    await expectError(fetchJson(`${bff.url}/api/invoices/-1`), 400, 'INVALID_ID');
    await expectError(fetchJson(`${bff.url}/api/catalog/products/%E0%A4%A`), 400, 'INVALID_PATH');
    await expectError(
      postJson(`${bff.url}/dev/cdc`, { payload: { ChangeEventHeader: { entityName: 'Order' } } }),
      400,
      'E_INVALID_EVENT',
    );
    await expectError(postJson(`${bff.url}/dev/cdc`, { hello: 'world' }), 400, 'E_INVALID_EVENT');
    await expectError(postJson(`${bff.url}/dev/cdc`, '{"payload": '), 400, 'INVALID_JSON');
    await expectError(postJson(`${bff.url}/dev/cdc`, ''), 400, 'INVALID_JSON');
    await expectError(
      postJson(`${bff.url}/dev/cdc`, JSON.stringify({ padding: 'x'.repeat(200_000) })),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    await expectError(
      postJson(`${bff.url}/dev/cdc/simulator`, { rate: -1 }),
      400,
      'INVALID_SIMULATOR_OPTIONS',
    );
    const malformed = await postJson<{ error: { message: string } }>(`${bff.url}/dev/cdc`, {
      payload: { ChangeEventHeader: { entityName: 'Order', recordIds: ['801X'], changeType: 'EXPLODE' } },
    });
    expect(malformed.body.error.message).toMatch(/changeType/);
    // Still up.
    expect((await fetchJson(`${bff.url}/health`)).status).toBe(200);
    await bff.getOk('/api/orders/001STILLUP');
  });
}
