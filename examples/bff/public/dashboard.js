// The dashboard's entry point: polls /api/dashboard every second and redraws every panel from the
// answer. A failed poll keeps the last figures on screen, says so, and the polling carries on.

import { wireActions } from './actions.js';
import { InvalidationFeed } from './feed.js';
import { clock } from './format.js';
import { renderBadge, renderHealth, worstReason } from './health.js';
import { History } from './history.js';
import {
  bucketColors,
  renderBuckets,
  renderBucketTable,
  renderHeadlines,
  renderHitRatioChart,
  renderInvalidationRate,
  renderUpstream,
  renderUpstreamRate,
} from './traffic.js';

const POLL_INTERVAL_MS = 1_000;
const POLL_TIMEOUT_MS = 3_000;

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const history = new History();
const feed = new InvalidationFeed(byTestId('invalidation-feed'));
let latest = null;
let timer;
let inFlight = false;
let failures = 0;

function render(data, now) {
  const colors = bucketColors(Object.keys(data.buckets));
  byTestId('store-name').textContent = data.store.name;
  byTestId('store-kind').textContent = data.store.kind;
  const updated = byTestId('updated-at');
  updated.textContent = clock(data.timestamp);
  updated.setAttribute('datetime', data.timestamp);
  renderBadge(byTestId('status-badge'), data.health.status, worstReason(data.health));
  renderHeadlines(document, data);
  renderBuckets(byTestId('bucket-bars'), data.buckets, colors);
  renderBucketTable(byTestId('bucket-table'), data.buckets, colors);
  renderHitRatioChart(byTestId('hit-ratio-chart'), byTestId('hit-ratio-legend'), history, colors, now);
  renderUpstream(byTestId('upstream-chart'), data.upstream);
  renderUpstreamRate(byTestId('upstream-rate-chart'), byTestId('upstream-rate-hint'), history, now);
  renderHealth(byTestId('health-panel'), data, now);
  renderInvalidationRate(byTestId('invalidation-rate-chart'), byTestId('rate-hint'), history, now);
  feed.render(data.invalidations.recent);
}

function showUnreachable(error) {
  failures += 1;
  const banner = byTestId('connection-banner');
  banner.hidden = false;
  const reason = error instanceof Error ? error.message : String(error);
  const polls = `${failures} failed ${failures === 1 ? 'poll' : 'polls'}`;
  const shown = latest ? `the figures below are from ${clock(latest.data.timestamp)}` : 'no figures yet';
  byTestId('connection-detail').textContent = `${reason} (${polls}); ${shown}. Still polling every second.`;
  renderBadge(byTestId('status-badge'), 'unreachable');
  byTestId('status-badge').title = reason;
  document.body.classList.add('stale');
}

function showReachable() {
  failures = 0;
  byTestId('connection-banner').hidden = true;
  document.body.classList.remove('stale');
}

async function poll() {
  clearTimeout(timer);
  if (inFlight) return;
  inFlight = true;
  try {
    const response = await fetch('/api/dashboard', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`GET /api/dashboard answered ${response.status}`);
    const data = await response.json();
    const now = Date.parse(data.timestamp) || Date.now();
    history.add(data, now);
    latest = { data, now };
    showReachable();
    render(data, now);
  } catch (error) {
    showUnreachable(error?.name === 'TimeoutError' ? new Error('no answer within 3 s') : error);
  } finally {
    inFlight = false;
    timer = setTimeout(poll, POLL_INTERVAL_MS);
  }
}

let resizeFrame;
window.addEventListener('resize', () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    if (latest) render(latest.data, latest.now);
  });
});

/**
 * The service keeps the last minutes of samples: start the charts from them rather than from an
 * empty axis. Without them (an older service, a failed request) the page still starts, empty.
 */
async function seedHistory() {
  try {
    const response = await fetch('/api/dashboard/history', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
    });
    if (response.ok) history.seed((await response.json()).samples);
  } catch {
    // The first poll reports an unreachable service; the history is a nicety.
  }
}

wireActions(document, poll);
seedHistory().finally(poll);
