import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { launchChromium } from './browser/chromium.js';
import { type RunningService, startBuiltService } from './browser/service.js';

// The dashboard in a real (headless) Chromium against the built service: what a person looking at
// the page would see, before traffic, while it happens, and while the service is unreachable.

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const SCREENSHOT_PATH = `${ARTIFACTS}dashboard.png`;
/** The page polls every second: anything it shows must show within a few polls. */
const UPDATE = { timeout: 10_000, interval: 100 };
/** The viewport the change-event panels must fit in without scrolling (a 1400x1000 window). */
const VIEWPORT = { width: 1400, height: 1000 };

/** As the page formats a ratio (format.js percent()). */
const percentOf = (ratio: number) => `${(Math.round(ratio * 1000) / 10).toLocaleString('en')}%`;

interface DashboardState {
  health: { status: string; subscriber: { counters: Record<string, number> } };
  buckets: Record<
    string,
    {
      hits: number;
      misses: number;
      staleHits: number;
      coalescedWaits: number;
      hitRatio: number | null;
      entries: number | null;
      fetchLatency: { count: number; p50Ms: number; p99Ms: number };
    }
  >;
  upstream: Record<string, { requests: number; calls: number; saved: number }>;
}

let service: RunningService | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];

function base(): string {
  if (!service) throw new Error('the service did not start');
  return service.url;
}

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`${base()}${path}`);
  expect(response.status, `GET ${path}`).toBe(200);
  return (await response.json()) as T;
}

const byTestId = (id: string): Locator => page.locator(`[data-testid="${id}"]`);

async function numberIn(id: string): Promise<number> {
  const text = (await byTestId(id).textContent()) ?? '';
  return Number(text.replace(/[^0-9.]/g, ''));
}

/** What the page drew for each bucket: the hit ratio it carries, '' for "no lookups yet". */
async function drawnRatios(): Promise<Record<string, string>> {
  const bars = page.locator('[data-testid="bucket-bars"] svg [data-testid="bucket-bar"]');
  const drawn: Record<string, string> = {};
  for (const bar of await bars.all()) {
    drawn[(await bar.getAttribute('data-bucket')) ?? '?'] = (await bar.getAttribute('data-hit-ratio')) ?? '?';
  }
  return drawn;
}

/** Each path once, then four more times at once: a miss, then hits (or waits on the first fetch). */
async function traffic(paths: string[]): Promise<void> {
  for (const path of paths) {
    await getJson(path);
    await Promise.all(Array.from({ length: 4 }, () => getJson(path)));
  }
}

async function firstOrderOf(accountId: string): Promise<string> {
  const body = await getJson<{ orders: Array<{ id: string }> }>(`/api/orders/${accountId}`);
  const id = body.orders[0]?.id;
  if (!id) throw new Error(`account ${accountId} has no orders`);
  return id;
}

async function sendOrderChange(accountId: string, orderId: string): Promise<void> {
  const now = Date.now();
  const response = await fetch(`${base()}/dev/cdc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      replayId: 1,
      payload: {
        ChangeEventHeader: {
          entityName: 'Order',
          recordIds: [orderId],
          changeType: 'UPDATE',
          changedFields: ['Status'],
          transactionKey: `dashboard-test-${now}`,
          sequenceNumber: 1,
          commitTimestamp: now,
          commitNumber: 1,
          commitUser: '005000000000001',
        },
        AccountId: accountId,
      },
    }),
  });
  expect(response.ok, `POST /dev/cdc answered ${response.status}: ${await response.text()}`).toBe(true);
}

/**
 * A setup failure (no Chromium, no built service) fails every test with its message: the runner
 * would report a failed hook's tests as skipped, and nothing here may pass by being skipped.
 */
let setupError: unknown;

/** Call first in each test: rethrows a setup failure, and screenshots the page if the test fails. */
function begin(name: string): void {
  if (setupError !== undefined) throw setupError;
  onTestFailed(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page?.screenshot({ path: `${ARTIFACTS}${name}-failed.png`, fullPage: true }).catch(() => {});
  });
}

describe('the dashboard, in headless Chromium against the built service', { timeout: 45_000 }, () => {
  beforeAll(async () => {
    try {
      browser = await launchChromium();
      service = await startBuiltService();
      page = await browser.newPage({ viewport: VIEWPORT });
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(service.dashboardUrl);
    } catch (error) {
      setupError = error;
    }
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
  });

  it('draws a bar for every bucket, a healthy badge and an empty state before any traffic', async () => {
    begin('empty');
    const state = await getJson<DashboardState>('/api/dashboard');
    const buckets = Object.keys(state.buckets);
    expect(buckets.length).toBeGreaterThan(0);

    await expect.poll(() => page.locator('[data-testid="bucket-bar"]').count(), UPDATE).toBe(buckets.length);
    for (const bucket of buckets) {
      const bar = page.locator(
        `[data-testid="bucket-bars"] svg [data-testid="bucket-bar"][data-bucket="${bucket}"]`,
      );
      expect(await bar.count(), `the bar of ${bucket}`).toBe(1);
      expect(await bar.locator('rect.bar-track').count()).toBe(1);
    }
    expect(Object.values(await drawnRatios())).toEqual(buckets.map(() => ''));
    for (const chart of [
      'hit-ratio-chart',
      'upstream-chart',
      'upstream-rate-chart',
      'invalidation-rate-chart',
    ]) {
      expect(await byTestId(chart).locator('svg').count(), chart).toBe(1);
    }
    const sources = await page.locator('[data-testid="upstream-chart"] [data-testid="upstream-bar"]').all();
    expect(await Promise.all(sources.map((bar) => bar.getAttribute('data-source')))).toEqual([
      'salesforce',
      'whmcs',
    ]);

    await expect.poll(() => byTestId('status-badge').getAttribute('data-status'), UPDATE).toBe('up');
    expect(await byTestId('status-text').textContent()).toBe('Up');
    expect(await byTestId('empty-state').isVisible()).toBe(true);
    expect(await byTestId('saved-total').textContent()).toBe('0');
    expect(await byTestId('feed-empty').isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('follows traffic: hit ratio bars, saved upstream calls, the invalidation feed', async () => {
    begin('traffic');
    // 20 requests for orders and the catalog.
    await traffic([
      '/api/orders/001ACME',
      '/api/orders/001GLOBEX',
      '/api/catalog/products/01tPROD01',
      '/api/catalog/bundles/0BNSTARTER',
    ]);
    const state = await getJson<DashboardState>('/api/dashboard');
    const read = Object.entries(state.buckets).filter(([, bucket]) => bucket.hitRatio !== null);
    expect(read.length, 'buckets read by 20 requests').toBeGreaterThanOrEqual(2);

    // The bars carry exactly the service's ratios, and the bars of read buckets are no longer empty.
    const expected = Object.fromEntries(
      Object.entries(state.buckets).map(([id, bucket]) => [
        id,
        bucket.hitRatio === null ? '' : String(bucket.hitRatio),
      ]),
    );
    await expect.poll(drawnRatios, UPDATE).toEqual(expected);
    for (const [bucket, { hits }] of read) {
      const hit = page.locator(`[data-testid="bucket-bar"][data-bucket="${bucket}"] rect.bar-segment.hit`);
      const width = Number(await hit.getAttribute('width'));
      if (hits > 0) expect(width, `the hit part of ${bucket}'s bar`).toBeGreaterThan(0);
    }
    await expect.poll(() => byTestId('empty-state').isVisible(), UPDATE).toBe(false);

    // The headline: upstream calls the cache and coalescing saved.
    const saved = Object.values(state.upstream).reduce((total, source) => total + source.saved, 0);
    expect(saved, 'the service saw repeated requests').toBeGreaterThan(0);
    await expect.poll(() => numberIn('saved-total'), UPDATE).toBe(saved);
    const salesforce = page.locator('[data-testid="upstream-bar"][data-source="salesforce"]');
    expect(Number(await salesforce.getAttribute('data-saved'))).toBe(state.upstream.salesforce?.saved);
    expect(Number(await salesforce.locator('rect.bar-segment.saved').getAttribute('width'))).toBeGreaterThan(
      0,
    );

    // A change event shows in the feed, the total and the rate chart.
    const orderId = await firstOrderOf('001ACME');
    await sendOrderChange('001ACME', orderId);
    const newest = page
      .locator('[data-testid="invalidation-feed"] [data-testid="invalidation-event"]')
      .first();
    await expect.poll(() => newest.getAttribute('data-entity'), UPDATE).toBe('Order');
    expect(await newest.textContent()).toContain(orderId);
    expect(await newest.getAttribute('data-kind')).toBe('update');
    expect(await newest.getAttribute('data-status')).toBe('applied');
    expect(await numberIn('change-events-total')).toBe(1);
    await expect
      .poll(() => byTestId('invalidation-rate-chart').locator('rect.column').count(), UPDATE)
      .toBeGreaterThan(0);

    expect(await byTestId('status-badge').getAttribute('data-status')).toBe('up');
    expect(await byTestId('status-text').textContent()).toBe('Up');

    // The headline is the share of lookups that never reached the upstream (hits, waits on
    // another caller's fetch, stale serves); the raw hit ratio is shown too, labelled.
    const headline = async () => {
      const now = await getJson<DashboardState>('/api/dashboard');
      const buckets = Object.values(now.buckets);
      const lookups = buckets.reduce((total, bucket) => total + bucket.hits + bucket.misses, 0);
      const served = buckets.reduce(
        (total, bucket) =>
          total +
          Math.min(bucket.hits + bucket.misses, bucket.hits + bucket.coalescedWaits + bucket.staleHits),
        0,
      );
      const hits = buckets.reduce((total, bucket) => total + bucket.hits, 0);
      return { served: percentOf(served / lookups), raw: percentOf(hits / lookups), waits: served > hits };
    };
    // Five requests at once for an account never read: one fetch, and callers waiting on it.
    await Promise.all(Array.from({ length: 5 }, () => getJson('/api/orders/001HEADLINE')));
    const figures = await headline();
    expect(figures.waits, 'coalesced waits counted in the headline').toBe(true);
    await expect.poll(() => byTestId('served-share').textContent(), UPDATE).toBe(figures.served);
    expect(await byTestId('raw-hit-ratio').textContent()).toBe(figures.raw);
    expect(figures.served).not.toBe(figures.raw);

    // Fetch latency (p50, p99) and entries per bucket, as the service measured and counted them.
    await expect
      .poll(async () => {
        const now = await getJson<DashboardState>('/api/dashboard');
        const shown: Record<string, string[]> = {};
        const expected: Record<string, string[]> = {};
        for (const [id, bucket] of Object.entries(now.buckets)) {
          const row = page.locator(`[data-testid="bucket-row"][data-bucket="${id}"]`);
          shown[id] = await Promise.all(
            ['data-entries', 'data-p50', 'data-p99'].map(
              async (name) => (await row.getAttribute(name)) ?? '?',
            ),
          );
          const measured = bucket.fetchLatency.count > 0;
          expected[id] = [
            bucket.entries === null ? '' : String(bucket.entries),
            measured ? String(bucket.fetchLatency.p50Ms) : '',
            measured ? String(bucket.fetchLatency.p99Ms) : '',
          ];
        }
        return JSON.stringify(shown) === JSON.stringify(expected)
          ? 'same'
          : JSON.stringify({ shown, expected });
      }, UPDATE)
      .toBe('same');
    const summaries = page.locator('[data-testid="bucket-row"][data-bucket="orders:summaries"]');
    // Entries are counted every 5 s: the two accounts read above show within one count.
    await expect
      .poll(async () => Number(await summaries.getAttribute('data-entries')), UPDATE)
      .toBeGreaterThanOrEqual(2);
    expect(Number(await summaries.getAttribute('data-p50'))).toBeGreaterThan(0);

    // The change-event panels are above the fold of a 1400x1000 window.
    for (const id of ['events-panel', 'feed-panel']) {
      const box = await byTestId(id).boundingBox();
      expect(box, id).not.toBeNull();
      expect((box?.y ?? 0) + (box?.height ?? 0), `the bottom of ${id}`).toBeLessThanOrEqual(VIEWPORT.height);
    }

    // A few more seconds of mixed traffic (bursts that coalesce, repeats that hit), so the
    // screenshot shows lines over time rather than a single point.
    const rounds = [
      ['/api/orders/001ACME', '/api/invoices/42'],
      ['/api/catalog/products/01tPROD02', '/api/pricing/01tPROD01'],
      ['/api/orders/001INITECH', '/api/catalog/bundles/0BNPRO', `/api/orders/001ACME/${orderId}`],
      ['/api/catalog/products/01tPROD01', '/api/invoices/7', '/api/pricing/01tPROD03'],
    ];
    for (const [index, paths] of rounds.entries()) {
      if (index % 2 === 0)
        await Promise.all(paths.flatMap((path) => Array.from({ length: 5 }, () => getJson(path))));
      else await traffic(paths);
      await page.waitForTimeout(700);
    }
    await page.waitForTimeout(1_500);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("draws the last minutes at once on a page opened now, from the service's history", async () => {
    begin('history');
    const fresh = await (browser as Browser).newPage({ viewport: VIEWPORT });
    try {
      fresh.on('pageerror', (error) => pageErrors.push(error.message));
      // One poll answered, the next ones refused: whatever the charts show past one sample came
      // from GET /api/dashboard/history. (The badge then says unreachable; the charts stay.)
      let answered = 0;
      await fresh.route('**/api/dashboard', (route) => {
        if (answered > 0) return route.abort();
        answered++;
        return route.continue();
      });
      await fresh.goto(`${base()}/dashboard`);
      const on = (id: string) => fresh.locator(`[data-testid="${id}"]`);
      // Set by the first render, kept after failed polls.
      await expect.poll(() => on('updated-at').getAttribute('datetime'), UPDATE).not.toBeNull();
      expect(answered).toBe(1);
      // The upstream calls of the earlier tests, binned over time: columns need two samples or more.
      expect(await on('upstream-rate-chart').locator('rect.column').count()).toBeGreaterThan(0);
      // The hit ratio line has a point per sample with lookups in its window: many, not one.
      const line = await on('hit-ratio-chart').locator('path[data-series="overall"]').getAttribute('d');
      expect((line ?? '').split(/[ML]/).filter((part) => part.trim() !== '').length).toBeGreaterThan(2);
      // And the headline's measure over time beside it, from the same samples.
      expect(await on('hit-ratio-chart').locator('path[data-series="served"]').count()).toBe(1);
    } finally {
      await fresh.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it('has demo buttons that make real traffic and change events', async () => {
    begin('buttons');
    const before = await getJson<DashboardState>('/api/dashboard');
    const requestsOf = (state: DashboardState) =>
      Object.values(state.upstream).reduce((total, source) => total + source.requests, 0);

    await byTestId('action-requests').click();
    await expect.poll(() => byTestId('action-log').textContent(), UPDATE).toBe('20 requests answered');
    const after = await getJson<DashboardState>('/api/dashboard');
    expect(requestsOf(after)).toBeGreaterThan(requestsOf(before));

    await byTestId('action-cdc').click();
    await expect.poll(() => byTestId('action-log').textContent(), UPDATE).toMatch(/sent an UPDATE event$/);
    const processed = async () =>
      (await getJson<DashboardState>('/api/dashboard')).health.subscriber.counters.processed;
    await expect.poll(processed, UPDATE).toBe((after.health.subscriber.counters.processed ?? 0) + 1);

    const simulator = byTestId('action-simulator');
    await simulator.click();
    await expect.poll(() => simulator.getAttribute('aria-pressed'), UPDATE).toBe('true');
    const started = await numberIn('change-events-total');
    await expect.poll(() => numberIn('change-events-total'), UPDATE).toBeGreaterThan(started + 1);
    await simulator.click();
    await expect.poll(() => simulator.getAttribute('aria-pressed'), UPDATE).toBe('false');
    expect(await byTestId('action-log').getAttribute('data-outcome')).toBe('ok');
    expect(pageErrors).toEqual([]);
  });

  it('says the service is unreachable, keeps the last figures and recovers on its own', async () => {
    begin('unreachable');
    await expect.poll(() => byTestId('status-badge').getAttribute('data-status'), UPDATE).toBe('up');
    const saved = await byTestId('saved-total').textContent();
    await page.route('**/api/dashboard', (route) => route.abort('connectionrefused'));
    try {
      await expect
        .poll(() => byTestId('status-badge').getAttribute('data-status'), UPDATE)
        .toBe('unreachable');
      expect(await byTestId('connection-banner').isVisible()).toBe(true);
      expect(await byTestId('connection-banner').textContent()).toContain('Service unreachable');
      expect(await byTestId('status-text').textContent()).toBe('Unreachable');
      // Still the last figures, not zeros or dashes.
      expect(await byTestId('saved-total').textContent()).toBe(saved);
    } finally {
      await page.unroute('**/api/dashboard');
    }
    await expect.poll(() => byTestId('status-badge').getAttribute('data-status'), UPDATE).toBe('up');
    expect(await byTestId('connection-banner').isVisible()).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});
