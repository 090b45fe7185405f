import { assertValidKey, type JsonValue } from '@org/cache-core';
import type { Envelope } from '@org/cache-core/adapter';
import type { Command } from '../command.js';
import { openStore } from '../connect.js';
import { formatBytes, formatDuration, formatTable, formatTtl } from '../format.js';
import { decodeEnvelope, Inspector } from '../inspect.js';
import { nothingMatched } from '../nothing-matched.js';

export type EntryState = 'fresh' | 'stale' | 'expired' | 'invalidated' | 'unreadable';

export interface TagReport {
  tag: string;
  /** The tag's token when the entry was written. */
  token: string;
  /** The tag's token now; `null` when the tag has none (expired or evicted: the entry misses). */
  currentToken: string | null;
  /** Whether the entry still counts for this tag. */
  current: boolean;
}

export type EntryReport =
  | {
      key: string;
      state: Exclude<EntryState, 'unreadable'>;
      value: JsonValue;
      createdAt: string;
      ageMs: number;
      /** Served as fresh until then; `null` = until invalidated. */
      freshUntil: string | null;
      /** Served at all (stale, in the grace window) until then; `null` = no end. */
      livesUntil: string | null;
      /** Remaining lifetime in Redis, ms; `null` = no expiry. */
      ttlMs: number | null;
      sizeBytes: number | null;
      tags: TagReport[];
    }
  | {
      key: string;
      state: 'unreadable';
      reason: string;
      /** The first 500 characters of what is stored. */
      raw: string;
      ttlMs: number | null;
      sizeBytes: number | null;
    };

export const get: Command = {
  name: 'get',
  summary: 'one entry decoded: value, age, remaining TTL, tags and whether each is still current',
  usage: 'cachectl get KEY',
  flags: [],
  args: { min: 1, max: 1 },
  async run({ args, target, output }) {
    const key = args[0] as string;
    assertValidKey(key);
    const redis = await openStore(target);
    try {
      const inspector = new Inspector(redis, target.prefix);
      const fullKey = inspector.fullKey(key);
      const [raw, ttlMs, sizeBytes] = await Promise.all([
        inspector.get(fullKey).catch(async (error: unknown) => {
          if (!String((error as Error)?.message).startsWith('WRONGTYPE')) throw error;
          return { wrongType: await inspector.type(fullKey) };
        }),
        inspector.remainingTtl(fullKey),
        inspector.memoryUsage(fullKey),
      ]);
      if (raw === undefined || ttlMs === undefined)
        throw await nothingMatched(inspector, `no entry '${key}'`);
      const report = await reportOf(inspector, key, raw, ttlMs, sizeBytes ?? null);
      if (output.json) await output.record(report);
      else for (const line of describe(report)) await output.line(line);
    } finally {
      await redis.disconnect();
    }
  },
};

async function reportOf(
  inspector: Inspector,
  key: string,
  raw: string | { wrongType: string },
  ttlMs: number | null,
  sizeBytes: number | null,
): Promise<EntryReport> {
  if (typeof raw !== 'string') {
    const reason = `a Redis ${raw.wrongType}, not a cache entry (another program wrote it)`;
    return { key, state: 'unreadable', reason, raw: '', ttlMs, sizeBytes };
  }
  const decoded = decodeEnvelope(raw);
  if ('unreadable' in decoded) {
    return { key, state: 'unreadable', reason: decoded.unreadable, raw: raw.slice(0, 500), ttlMs, sizeBytes };
  }
  const { envelope } = decoded;
  const recorded = Object.entries(envelope.tags ?? {});
  const tokens = await inspector.tagTokens(recorded.map(([tag]) => tag));
  const tags = recorded.map(([tag, token], index): TagReport => {
    const currentToken = tokens[index] ?? null;
    return { tag, token, currentToken, current: currentToken === token };
  });
  const now = Date.now();
  return {
    key,
    state: tags.some((tag) => !tag.current) ? 'invalidated' : freshness(envelope, now),
    value: envelope.value,
    createdAt: new Date(envelope.createdAt).toISOString(),
    ageMs: Math.max(0, now - envelope.createdAt),
    freshUntil: instant(envelope.freshUntil),
    livesUntil: instant(envelope.livesUntil),
    ttlMs,
    sizeBytes,
    tags,
  };
}

/** As core reads it: fresh before `freshUntil`, stale (grace) before `livesUntil`, then expired. */
function freshness(envelope: Envelope, now: number): 'fresh' | 'stale' | 'expired' {
  if (envelope.freshUntil === null || now < envelope.freshUntil) return 'fresh';
  if (envelope.livesUntil === null || now < envelope.livesUntil) return 'stale';
  return 'expired';
}

function instant(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function describe(report: EntryReport): string[] {
  const size = report.sizeBytes === null ? 'unknown' : formatBytes(report.sizeBytes);
  if (report.state === 'unreadable') {
    const lines = formatTable([
      ['key', report.key],
      ['state', `unreadable: ${report.reason}`],
      ['ttl', formatTtl(report.ttlMs)],
      ['size', size],
    ]);
    return report.raw === '' ? lines : [...lines, 'raw', report.raw];
  }
  const now = Date.now();
  const until = (iso: string | null, none: string) =>
    iso === null ? none : `${iso} (${formatDuration(Date.parse(iso) - now)} from now)`;
  const rows: string[][] = [
    ['key', report.key],
    ['state', report.state],
    ['created', `${report.createdAt} (${formatDuration(report.ageMs)} ago)`],
    ['fresh until', until(report.freshUntil, 'invalidated')],
    ['lives until', until(report.livesUntil, 'no end')],
    ['ttl', `${formatTtl(report.ttlMs)} (in Redis)`],
    ['size', size],
  ];
  if (report.tags.length === 0) rows.push(['tags', 'none']);
  report.tags.forEach((tag, index) => {
    const status = tag.current
      ? 'current'
      : tag.currentToken === null
        ? 'INVALIDATED (token gone)'
        : 'INVALIDATED';
    rows.push([index === 0 ? 'tags' : '', `${tag.tag}  ${status}`]);
  });
  return [...formatTable(rows), 'value', JSON.stringify(report.value, null, 2)];
}
