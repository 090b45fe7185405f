import { eventDriven, ttl } from '@org/cache-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachectl, records } from './support/cachectl.js';
import { type RedisServer, startRedisServer } from './support/redis.js';
import { Sdk } from './support/sdk.js';

// stats, keys, get and memory, run as processes against a private redis-server seeded through the SDK.

let redis: RedisServer;
const sdk = new Sdk(() => redis.url);
const PREFIX = 'shop';

beforeAll(async () => {
  redis = await startRedisServer();
  const cache = sdk.cache(PREFIX, { strategy: ttl('2h') });
  await cache.setMany([
    // TTLs far longer than a slow run of this file: an entry expiring mid-file would change the counts.
    { key: 'orders:detail:801', value: { id: 801, total: 12.5 }, ttl: '30m', tags: ['account:001'] },
    { key: 'orders:detail:802', value: { id: 802 }, tags: ['account:001', 'product:9'] },
    { key: 'orders:summaries:001', value: [801, 802], tags: ['account:001'] },
    { key: 'catalog:product:9', value: { name: 'Widget' }, tags: ['product:9'] },
  ]);
  // Lives until invalidated: no TTL in Redis.
  await sdk
    .cache(PREFIX, { strategy: eventDriven({ safetyTtl: 0 }) })
    .set('config:flags:all', { beta: false });
  // Another prefix on the same Redis: never counted, listed or touched.
  await sdk.cache('other').set('orders:detail:801', 'not ours');
}, 30_000);

afterAll(async () => {
  await sdk.closeAll();
  await redis?.stop();
});

const run = (...args: string[]) => cachectl([...args, '--url', redis.url, '--prefix', PREFIX]);

describe('stats', () => {
  it('--json: entries, memory, tag tokens, leases and per-domain / per-bucket counts', async () => {
    const result = await run('stats', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual({
      prefix: PREFIX,
      entries: 5,
      memoryBytes: expect.any(Number),
      tagTokens: 2,
      leases: 0,
      domains: [
        {
          domain: 'orders',
          entries: 3,
          buckets: [
            { bucket: 'detail', entries: 2 },
            { bucket: 'summaries', entries: 1 },
          ],
        },
        { domain: 'catalog', entries: 1, buckets: [{ bucket: 'product', entries: 1 }] },
        { domain: 'config', entries: 1, buckets: [{ bucket: 'flags', entries: 1 }] },
      ],
    });
    expect(report.memoryBytes).toBeGreaterThan(5 * 50);
  });

  it('prints a summary and a domain table for people', async () => {
    const result = await run('stats');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^entries\s+5$/m);
    expect(result.stdout).toMatch(/^tag tokens\s+2$/m);
    expect(result.stdout).toMatch(/^orders\s+3$/m);
    expect(result.stdout).toMatch(/^\s+detail\s+2$/m);
  });
});

describe('keys', () => {
  it('--json streams one record per live entry with its remaining TTL', async () => {
    const result = await run('keys', 'orders:*', '--json');
    expect(result.code).toBe(0);
    const lines = records<{ key: string; ttlMs: number | null }>(result.stdout);
    expect(lines.map((line) => line.key).sort()).toEqual([
      'orders:detail:801',
      'orders:detail:802',
      'orders:summaries:001',
    ]);
    const ttlOf = (key: string) => lines.find((line) => line.key === key)?.ttlMs;
    expect(ttlOf('orders:detail:801')).toBeGreaterThan(0);
    expect(ttlOf('orders:detail:801')).toBeLessThanOrEqual(1_800_000);
    expect(ttlOf('orders:detail:802')).toBeGreaterThan(1_800_000);
    expect(ttlOf('orders:detail:802')).toBeLessThanOrEqual(7_200_000);
  });

  it('shows a key without expiry as such, tab-separated for people', async () => {
    const result = await run('keys', 'config:*');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('config:flags:all\tno expiry\n');
    expect(records(await run('keys', 'config:*', '--json').then((r) => r.stdout))).toEqual([
      { key: 'config:flags:all', ttlMs: null },
    ]);
  });

  it('--limit N stops after N keys and says so on stderr', async () => {
    const result = await run('keys', '*', '--limit', '2', '--json');
    expect(result.code).toBe(0);
    expect(records(result.stdout)).toHaveLength(2);
    expect(result.stderr).toContain('stopped after 2 keys');
  });

  it('treats an escaped glob character as data', async () => {
    const result = await run('keys', 'orders:detail:80\\*', '--json');
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('');
  });
});

describe('get', () => {
  it('--json decodes the envelope: value, age, freshness, TTL, size and current tags', async () => {
    const result = await run('get', 'orders:detail:801', '--json');
    expect(result.code).toBe(0);
    const entry = JSON.parse(result.stdout);
    expect(entry).toEqual({
      key: 'orders:detail:801',
      state: 'fresh',
      value: { id: 801, total: 12.5 },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      ageMs: expect.any(Number),
      freshUntil: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      livesUntil: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      ttlMs: expect.any(Number),
      sizeBytes: expect.any(Number),
      tags: [
        { tag: 'account:001', token: expect.any(String), currentToken: expect.any(String), current: true },
      ],
    });
    expect(Date.parse(entry.freshUntil) - Date.parse(entry.createdAt)).toBe(1_800_000);
    expect(entry.tags[0].token).toBe(entry.tags[0].currentToken);
  });

  it('shows an entry whose tag was invalidated as invalidated, naming the tag', async () => {
    const prefix = 'get-tags';
    const cache = sdk.cache(prefix);
    await cache.set('catalog:product:7', { name: 'Bolt' }, { tags: ['product:7', 'brand:acme'] });
    await cache.invalidateTags(['brand:acme']);
    const result = await cachectl([
      'get',
      'catalog:product:7',
      '--json',
      '--url',
      redis.url,
      '--prefix',
      prefix,
    ]);
    expect(result.code).toBe(0);
    const entry = JSON.parse(result.stdout);
    expect(entry.state).toBe('invalidated');
    expect(entry.tags).toEqual([
      expect.objectContaining({ tag: 'product:7', current: true }),
      expect.objectContaining({ tag: 'brand:acme', current: false }),
    ]);
    const human = await cachectl(['get', 'catalog:product:7', '--url', redis.url, '--prefix', prefix]);
    expect(human.stdout).toMatch(/^state\s+invalidated$/m);
    expect(human.stdout).toMatch(/brand:acme\s+INVALIDATED/);
    expect(human.stdout).toMatch(/product:7\s+current/);
  });

  it('prints the value and the tags for people', async () => {
    const result = await run('get', 'orders:detail:802');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^state\s+fresh$/m);
    expect(result.stdout).toMatch(/^tags\s+account:001\s+current$/m);
    expect(result.stdout).toContain('"id": 802');
  });

  it('reports what another program stored as unreadable, never crashing', async () => {
    const store = sdk.store();
    await store.set(`${PREFIX}:foreign:text`, 'plain text, not an envelope');
    await store.connection.command(
      ['HSET', `${PREFIX}:foreign:hash`, 'field', 'value'],
      `${PREFIX}:foreign:hash`,
    );
    const text = JSON.parse((await run('get', 'foreign:text', '--json')).stdout);
    expect(text).toMatchObject({ state: 'unreadable', raw: 'plain text, not an envelope', ttlMs: null });
    const hash = await run('get', 'foreign:hash', '--json');
    expect(hash.code).toBe(0);
    expect(JSON.parse(hash.stdout)).toMatchObject({
      state: 'unreadable',
      reason: expect.stringContaining('hash'),
    });
  });

  it('exits 5 for a key with no entry and 3 for a key the SDK refuses', async () => {
    const missing = await run('get', 'orders:detail:999');
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("no entry 'orders:detail:999'");
    const invalid = await run('get', 'orders::801', '--json');
    expect(invalid.code).toBe(3);
    expect(JSON.parse(invalid.stderr)).toEqual({
      error: { code: 'E_INVALID_KEY', exitCode: 3, message: expect.stringContaining('empty segment') },
    });
  });
});

describe('memory', () => {
  it('--json: bytes Redis holds and live entries for a pattern', async () => {
    const all = JSON.parse((await run('memory', '*', '--json')).stdout);
    const orders = await run('memory', 'orders:*', '--json');
    expect(orders.code).toBe(0);
    const report = JSON.parse(orders.stdout);
    expect(report).toEqual({ pattern: 'orders:*', entries: 3, bytes: expect.any(Number) });
    expect(report.bytes).toBeGreaterThan(0);
    expect(report.bytes).toBeLessThan(all.bytes);
  });

  it('exits 5 when nothing matches', async () => {
    const result = await run('memory', 'invoices:*');
    expect(result.code).toBe(5);
    expect(result.stderr).toContain("no entry matches 'invoices:*'");
  });
});
