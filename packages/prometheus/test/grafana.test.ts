import { readFileSync } from 'node:fs';
import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { cacheCollector } from '@org/cache-prometheus';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseExposition, seriesNames } from './support/exposition.js';

interface Target {
  expr: string;
  legendFormat?: string;
}
interface Panel {
  title: string;
  type: string;
  targets: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; query: unknown }> };
}

const dashboard = JSON.parse(
  readFileSync(new URL('../grafana/cache-dashboard.json', import.meta.url), 'utf8'),
) as Dashboard;

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring']);

/**
 * The metric names a PromQL expression reads: identifiers left once strings, label matchers,
 * ranges, grouping clauses, function calls, keywords, numbers and Grafana variables are removed.
 */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()/g)) {
    const name = match[0];
    const end = (match.index ?? 0) + name.length;
    // The lookahead lets a function name through without its last letter: skip prefixes of a call.
    if (/^[a-zA-Z0-9_:]/.test(stripped.slice(end, end + 1))) continue;
    if (KEYWORDS.has(name) || /^(?:Inf|NaN)$/i.test(name)) continue;
    names.push(name);
  }
  return names;
}

/** Every PromQL expression of the dashboard: panel targets and template variable queries. */
function expressions(): string[] {
  const fromPanels = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
  const fromVariables = dashboard.templating.list.flatMap((variable) => {
    const query = variable.query as { query?: string } | string;
    const text = typeof query === 'string' ? query : query?.query;
    const labelValues = text === undefined ? undefined : /^label_values\((\w+),/.exec(text);
    return labelValues ? [labelValues[1] as string] : [];
  });
  return [...fromPanels, ...fromVariables];
}

/** What a real registry exposes once a cache has fetched (so the histogram series exist). */
async function exposedSeries(): Promise<Set<string>> {
  const registry = new Registry();
  const cache = createCache({ store: memoryStore(), prefix: 'grafana', strategy: ttl('1m') });
  const dispose = cacheCollector(cache, { registry });
  try {
    const bucket = cache.domain('orders', { buckets: { detail: {} } }).buckets.detail;
    await bucket.getOrSet('1', () => 1);
    await bucket.invalidate('1');
    return seriesNames(parseExposition(await registry.metrics()));
  } finally {
    dispose();
    await cache.close();
  }
}

describe('the Grafana dashboard', () => {
  it('reads metric names out of PromQL, and only those', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, domain) (rate(cache_fetch_duration_seconds_bucket{cache=~"$cache", x="a{b}"}[$__rate_interval])))',
      ),
    ).toEqual(['cache_fetch_duration_seconds_bucket']);
    expect(metricNamesIn('max by (cache, state) (cache_breaker_state{cache=~"$cache"}) == 1')).toEqual([
      'cache_breaker_state',
    ]);
    expect(metricNamesIn('sum(rate(cache_nope_total[5m])) / sum(rate(cache_lookups_total[5m]))')).toEqual([
      'cache_nope_total',
      'cache_lookups_total',
    ]);
  });

  it('queries only metrics the collector exposes', async () => {
    const exposed = await exposedSeries();
    const queried = new Set(expressions().flatMap(metricNamesIn));
    expect(queried.size).toBeGreaterThanOrEqual(8);
    const missing = [...queried].filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  it('has the panels an operator looks for, each with a query', () => {
    expect(dashboard.uid).toBe('org-cache');
    const titles = dashboard.panels.map((panel) => panel.title);
    for (const wanted of [
      'Hit ratio per bucket',
      'Upstream calls saved',
      'Fetch latency p50 / p99',
      'Invalidations by source',
      'Store errors',
      'Breaker state',
    ])
      expect(titles).toContain(wanted);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    const latency = dashboard.panels.find((panel) => panel.title === 'Fetch latency p50 / p99');
    expect(latency?.targets.map((target) => /histogram_quantile\((0\.\d+)/.exec(target.expr)?.[1])).toEqual([
      '0.5',
      '0.99',
    ]);
  });
});
