import type { Command } from '../command.js';
import { openCache } from '../connect.js';
import { interrupted } from '../errors.js';
import { formatBytes, formatCount, formatTable } from '../format.js';
import { Inspector } from '../inspect.js';
import { nothingMatched } from '../nothing-matched.js';
import { describeTarget } from '../target.js';

export interface StatsReport {
  prefix: string;
  /** Live entries (what `countByPattern('*')` counts). */
  entries: number;
  /** Bytes held by every stored entry, expired ones not yet evicted included. */
  memoryBytes: number;
  tagTokens: number;
  /** Fetches in flight across processes right now. */
  leases: number;
  domains: DomainCount[];
}

export interface DomainCount {
  domain: string;
  entries: number;
  /** Keys with at least three segments (`domain:bucket:id`) counted by their second segment. */
  buckets: Array<{ bucket: string; entries: number }>;
}

export const stats: Command = {
  name: 'stats',
  summary: 'entries, memory, tag tokens and leases of the prefix, with entries per domain and bucket',
  usage: 'cachectl stats',
  flags: [],
  args: { min: 0, max: 0 },
  async run({ target, output, signal }) {
    const session = await openCache(target);
    try {
      const { cache } = session;
      const inspector = new Inspector(session.redis, target.prefix);
      const domains = new Map<string, { entries: number; buckets: Map<string, number> }>();
      let entries = 0;
      for await (const key of cache.scan('*')) {
        if (signal.aborted) throw interrupted();
        entries++;
        const [domain = key, bucket, id] = key.split(':');
        let counts = domains.get(domain);
        if (counts === undefined) {
          counts = { entries: 0, buckets: new Map() };
          domains.set(domain, counts);
        }
        counts.entries++;
        if (bucket !== undefined && id !== undefined) {
          counts.buckets.set(bucket, (counts.buckets.get(bucket) ?? 0) + 1);
        }
      }
      const [memoryBytes, tagTokens, leases] = await Promise.all([
        cache.memoryUsageByPattern('*'),
        inspector.countInternal('tag'),
        inspector.countInternal('lease'),
      ]);
      if (entries === 0 && memoryBytes === 0 && tagTokens === 0 && leases === 0) {
        throw await nothingMatched(inspector, 'no entries');
      }
      const report: StatsReport = {
        prefix: target.prefix,
        entries,
        memoryBytes,
        tagTokens,
        leases,
        domains: sortByEntries(
          [...domains].map(([domain, counts]) => ({
            domain,
            entries: counts.entries,
            buckets: sortByEntries(
              [...counts.buckets].map(([bucket, bucketEntries]) => ({ bucket, entries: bucketEntries })),
              (row) => row.bucket,
            ),
          })),
          (row) => row.domain,
        ),
      };
      if (output.json) {
        await output.record(report);
        return;
      }
      const summary = formatTable([
        ['prefix', `${report.prefix} (${describeTarget(target)})`],
        ['entries', formatCount(report.entries)],
        ['memory', `${formatBytes(report.memoryBytes)} (${formatCount(report.memoryBytes)} bytes)`],
        ['tag tokens', formatCount(report.tagTokens)],
        ['leases', `${formatCount(report.leases)} (fetches in flight)`],
      ]);
      for (const line of summary) await output.line(line);
      if (report.domains.length === 0) return;
      await output.line('');
      const rows: string[][] = [['domain', 'bucket', 'entries']];
      for (const domain of report.domains) {
        rows.push([domain.domain, '', formatCount(domain.entries)]);
        for (const bucket of domain.buckets) rows.push(['', bucket.bucket, formatCount(bucket.entries)]);
      }
      for (const line of formatTable(rows)) await output.line(line);
    } finally {
      await session.close();
    }
  },
};

function sortByEntries<T extends { entries: number }>(rows: T[], name: (row: T) => string): T[] {
  return rows.sort((a, b) => b.entries - a.entries || name(a).localeCompare(name(b)));
}
