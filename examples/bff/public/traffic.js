// The traffic panels: headline figures, hit ratio per bucket and over time, upstream calls made vs
// saved, and the invalidation rate.

import { barRows, columnChart, lineChart } from './charts.js';
import { count, html, milliseconds, percent, plural } from './format.js';
import { changeEventsOf, lookupsOf, servedOf } from './history.js';

// Okabe-Ito: told apart by most colour-blind readers.
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#7d6bb1', '#8a8a8a'];

/** A stable colour per bucket: its position among the bucket ids, sorted. */
export function bucketColors(bucketIds) {
  return new Map([...bucketIds].sort().map((id, index) => [id, PALETTE[index % PALETTE.length]]));
}

function totals(data) {
  const buckets = Object.values(data.buckets);
  const sources = Object.values(data.upstream);
  const sum = (items, pick) => items.reduce((total, item) => total + pick(item), 0);
  return {
    hits: sum(buckets, (bucket) => bucket.hits),
    served: sum(buckets, servedOf),
    lookups: sum(buckets, lookupsOf),
    requests: sum(sources, (source) => source.requests),
    calls: sum(sources, (source) => source.calls),
    saved: sum(sources, (source) => source.saved),
    failures: sum(sources, (source) => source.failures),
  };
}

export function renderHeadlines(root, data) {
  const total = totals(data);
  const set = (testId, text) => {
    root.querySelector(`[data-testid="${testId}"]`).textContent = text;
  };
  set('saved-total', count(total.saved));
  set(
    'saved-note',
    total.requests === 0
      ? 'no upstream requests yet'
      : `${percent(total.saved / total.requests)} of ${plural(total.requests, 'request')} never reached upstream`,
  );
  // The headline: lookups the upstream never saw (hits, coalesced waits, stale serves). The raw
  // hit ratio counts a caller that waited on another's fetch as a miss: shown, labelled, below it.
  set('served-share', total.lookups === 0 ? '–' : percent(total.served / total.lookups));
  set('raw-hit-ratio', total.lookups === 0 ? '–' : percent(total.hits / total.lookups));
  set(
    'lookups-note',
    total.lookups === 0
      ? 'no lookups yet'
      : `${plural(total.hits, 'hit')} in ${plural(total.lookups, 'lookup')}`,
  );
  set('calls-total', count(total.calls));
  set('failures-note', `${count(total.failures)} failed`);
  set('change-events-total', count(changeEventsOf(data)));
  const latest = data.invalidations.recent[0];
  set(
    'invalidations-note',
    `${plural(data.invalidations.total, 'cache invalidation')}${latest ? ` · latest: ${latest.entity} ${latest.kind}` : ''}`,
  );
  root.querySelector('[data-testid="empty-state"]').hidden = total.lookups > 0 || total.requests > 0;
}

export function renderBuckets(container, buckets, colors) {
  const ids = Object.keys(buckets).sort();
  const rows = ids.map((id) => {
    const bucket = buckets[id];
    const lookups = lookupsOf(bucket);
    const parts = [
      plural(bucket.hits, 'hit'),
      plural(bucket.misses, 'miss', 'misses'),
      `${count(bucket.staleHits)} served stale`,
      `${count(bucket.coalescedWaits)} coalesced`,
      `${count(bucket.invalidations)} invalidated`,
    ];
    if (bucket.fetchErrors > 0) parts.push(plural(bucket.fetchErrors, 'fetch error'));
    return {
      key: id,
      label: id,
      value: lookups === 0 ? 'no lookups yet' : percent(bucket.hitRatio),
      detail: parts.join(' · '),
      segments:
        lookups === 0
          ? []
          : [
              { fraction: bucket.hits / lookups, className: 'hit' },
              // Misses that never reached the upstream: waits on another caller's fetch, stale serves.
              { fraction: (bucket.coalescedWaits ?? 0) / lookups, className: 'coalesced' },
              { fraction: bucket.staleHits / lookups, className: 'stale' },
            ],
      color: colors.get(id),
      data: { bucket: id, hitRatio: bucket.hitRatio ?? '', lookups },
    };
  });
  barRows(container, rows, { rowTestId: 'bucket-bar' });
  container.setAttribute(
    'aria-label',
    `Hit ratio per bucket: ${rows.map((row) => `${row.label} ${row.value}`).join(', ') || 'no buckets'}`,
  );
}

/** Per bucket: entries in the store, fetches and their latency (p50, p99) as the SDK measured them. */
export function renderBucketTable(body, buckets, colors) {
  const ids = Object.keys(buckets).sort();
  body.replaceChildren(
    ...ids.map((id) => {
      const bucket = buckets[id];
      const latency = bucket.fetchLatency ?? { count: 0, p50Ms: 0, p99Ms: 0 };
      const measured = latency.count > 0;
      return html(
        'tr',
        {
          'data-testid': 'bucket-row',
          'data-bucket': id,
          'data-entries': bucket.entries ?? '',
          'data-p50': measured ? latency.p50Ms : '',
          'data-p99': measured ? latency.p99Ms : '',
        },
        [
          html('th', { scope: 'row' }, [
            html('span', { class: 'bucket-dot', style: `background:${colors.get(id)}` }),
            id,
          ]),
          html('td', {}, [
            bucket.entries === null || bucket.entries === undefined ? '–' : count(bucket.entries),
          ]),
          html('td', {}, [count(latency.count)]),
          html('td', {}, [measured ? milliseconds(latency.p50Ms) : '–']),
          html('td', {}, [measured ? milliseconds(latency.p99Ms) : '–']),
        ],
      );
    }),
  );
}

export function renderUpstream(container, upstream) {
  const rows = Object.entries(upstream)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, source]) => {
      const scale = Math.max(source.requests, source.calls + source.saved, 1);
      return {
        key: name,
        label: name,
        value:
          source.requests === 0
            ? 'no requests yet'
            : `${count(source.saved)} saved (${percent(source.saved / scale)})`,
        detail: [
          plural(source.requests, 'request'),
          plural(source.calls, 'call'),
          `${count(source.saved)} saved`,
          `${count(source.failures)} failed`,
        ].join(' · '),
        segments: [
          { fraction: source.calls / scale, className: 'calls' },
          { fraction: source.saved / scale, className: 'saved' },
        ],
        data: {
          source: name,
          requests: source.requests,
          calls: source.calls,
          saved: source.saved,
          failures: source.failures,
        },
      };
    });
  barRows(container, rows, { rowTestId: 'upstream-bar' });
  container.setAttribute(
    'aria-label',
    `Upstream calls: ${rows.map((row) => `${row.label}: ${row.detail}`).join('; ') || 'no sources'}`,
  );
}

export function renderHitRatioChart(container, legend, history, colors, now) {
  const { overall, served, perBucket } = history.hitRatioSeries();
  const series = [
    ...[...perBucket].map(([id, points]) => ({ key: id, points, color: colors.get(id) })),
    { key: 'served', points: served, className: 'line-served', label: 'never reached upstream' },
    { key: 'overall', points: overall, emphasis: true, label: 'hit ratio, all buckets' },
  ];
  lineChart(container, {
    series,
    xDomain: history.domain(now),
    emptyMessage: 'No lookups in this time window',
  });
  const latest = (points) => points.at(-1)?.value ?? null;
  legend.replaceChildren(
    ...series
      .slice()
      .reverse()
      .map((line) =>
        html('li', { 'data-series': line.key, class: line.emphasis ? 'legend-main' : undefined }, [
          html('span', {
            class: line.className ? `swatch ${line.className}` : 'swatch',
            style: line.color ? `background:${line.color}` : undefined,
          }),
          html('span', {}, [line.label ?? line.key]),
          html('strong', {}, [percent(latest(line.points))]),
        ]),
      ),
  );
  container.setAttribute('aria-label', `Hit ratio over the last 30 seconds: ${percent(latest(overall))}`);
}

const seconds = (bin) => `${Math.round((bin.t1 - bin.t0) / 100) / 10} s`;
const until = (bin) => new Date(bin.t1).toLocaleTimeString('en-GB', { hour12: false });

export function renderInvalidationRate(container, hint, history, now) {
  const bins = history.bins(now, [(sample) => sample.events]);
  columnChart(container, {
    bins,
    classes: ['invalidations'],
    xDomain: history.domain(now),
    emptyMessage: 'No change events since the page opened',
    describe: (bin) => `${bin.values[0]} in the ${seconds(bin)} to ${until(bin)}`,
  });
  const [from, to] = history.domain(now);
  hint.textContent = `Change events handled per ${seconds(bins[0])}, last ${Math.round((to - from) / 60_000)} min.`;
  const total = bins.reduce((sum, bin) => sum + bin.values[0], 0);
  container.setAttribute('aria-label', `Change events: ${total} since ${until({ t1: from })}`);
}

export function renderUpstreamRate(container, hint, history, now) {
  const bins = history.bins(now, [(sample) => sample.calls, (sample) => sample.saved]);
  const labels = ['upstream calls', 'saved'];
  columnChart(container, {
    bins,
    classes: ['calls', 'saved'],
    xDomain: history.domain(now),
    height: 150,
    emptyMessage: 'No upstream requests since the page opened',
    describe: (bin, index) => `${bin.values[index]} ${labels[index]} in the ${seconds(bin)} to ${until(bin)}`,
  });
  hint.textContent = `Per ${seconds(bins[0])}: calls made (orange) and saved (green).`;
}
