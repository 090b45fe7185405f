import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { createClient } from '@keyv/redis';
import {
  type Cache,
  type CacheOptions,
  createCache,
  escapeGlob,
  eventDriven,
  isCacheError,
} from '@org/cache-core';
import { storeCapabilities } from '@org/cache-core/adapter';
import { type RedisStore, redisStore } from '@org/cache-redis';
import {
  type RedisServer,
  type RespReply,
  redisBinary,
  redisCommand,
  startRedisServer,
  uniquePrefix,
} from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const execFileAsync = promisify(execFile);

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

const opened: Cache[] = [];
const stores: RedisStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((cache) => cache.close()));
  await Promise.all(stores.splice(0).map((store) => store.disconnect()));
});

/** A cache on redisStore with a prefix of its own, closed after the test. */
function open(options: Partial<CacheOptions> = {}): Cache {
  const cache = createCache({
    store: redisStore({ url: server.url }),
    prefix: uniquePrefix('data'),
    ...options,
  });
  opened.push(cache);
  return cache;
}

function store(options: { namespace?: string } = {}): RedisStore {
  const created = redisStore({ url: server.url, ...options });
  stores.push(created);
  return created;
}

const redis = (...args: string[]): Promise<RespReply> => redisCommand(server.port, args);
const rawKey = (cache: Cache, key: string) => `${cache.prefix}:${key}`;

function envelopeText(value: unknown): string {
  return JSON.stringify({ v: 1, value, createdAt: Date.now(), freshUntil: null, livesUntil: null });
}

describe('entries written by another program', () => {
  const unreadable: Array<[string, string]> = [
    ['garbage text', 'not json {'],
    ['a JSON string', '"just text"'],
    ['JSON null', 'null'],
    ['valid JSON but not an envelope', '{"hello":"world"}'],
    ['an envelope of another version', '{"v":2,"value":1,"createdAt":0,"freshUntil":null,"livesUntil":null}'],
    [
      'an envelope hidden under __proto__',
      '{"__proto__":{"v":1,"value":"evil","createdAt":0,"freshUntil":null,"livesUntil":null}}',
    ],
    ['an envelope without a value', '{"v":1,"createdAt":0,"freshUntil":null,"livesUntil":null}'],
  ];

  for (const [name, text] of unreadable) {
    it(`${name}: a counted miss, then replaced by the next getOrSet`, async () => {
      const cache = open();
      await redis('SET', rawKey(cache, 'orders:1'), text);

      expect(await cache.get('orders:1')).toBeUndefined();
      expect(cache.stats().totals).toMatchObject({ corruptEntries: 1, misses: 1, hits: 0, storeErrors: 0 });
      expect(await cache.has('orders:1')).toBe(false);

      let fetches = 0;
      const fresh = await cache.getOrSet('orders:1', async () => {
        fetches++;
        return { id: 1 };
      });
      expect(fresh).toEqual({ id: 1 });
      expect(fetches).toBe(1);
      expect(await cache.get('orders:1')).toEqual({ id: 1 });
      const stored = JSON.parse(String(await redis('GET', rawKey(cache, 'orders:1'))));
      expect(stored).toMatchObject({ v: 1, value: { id: 1 } });
      // Replacing a corrupt entry is not an invalidation.
      expect(cache.stats().totals).toMatchObject({ invalidations: 0, storeErrors: 0 });
      expect(({} as Record<string, unknown>).value).toBeUndefined();
    });
  }

  it('__proto__ keys inside a valid envelope are dropped and never reach a prototype', async () => {
    const cache = open();
    await redis(
      'SET',
      rawKey(cache, 'k'),
      '{"v":1,"value":{"__proto__":{"polluted":true},"nested":{"__proto__":{"polluted":true},"ok":1},"list":[{"__proto__":{"polluted":true}}]},"createdAt":0,"freshUntil":null,"livesUntil":null,"__proto__":{"polluted":true}}',
    );
    const value = (await cache.get('k')) as Record<string, unknown>;
    expect(value).toEqual({ nested: { ok: 1 }, list: [{}] });
    expect(Object.hasOwn(value, '__proto__')).toBe(false);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(value.nested)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect({ ...value, ...(value.nested as object) }).not.toHaveProperty('polluted');
  });

  it('a hash-type key where an entry is expected is a counted corrupt miss, then replaced by getOrSet', async () => {
    const cache = open();
    await redis('HSET', rawKey(cache, 'k'), 'field', 'value');
    expect(await cache.get('k')).toBeUndefined();
    expect(await cache.getMany(['k'])).toEqual([undefined]);
    expect(cache.stats().totals).toMatchObject({ corruptEntries: 1, storeErrors: 0 });
    expect(await cache.getOrSet('k', async () => 'replaced')).toBe('replaced');
    expect(await redis('TYPE', rawKey(cache, 'k'))).toBe('string');
    expect(await cache.get('k')).toBe('replaced');
  });

  it('a foreign hash key read again and again does not open the breaker for the other keys', async () => {
    const cache = open(); // the default breaker: 5 consecutive failures open it
    await cache.set('healthy', 'ok');
    await redis('HSET', rawKey(cache, 'foreign'), 'field', 'value');
    for (let read = 0; read < 5; read++) expect(await cache.get('foreign')).toBeUndefined();
    expect(await cache.get('healthy')).toBe('ok');
    await cache.set('written', 1);
    expect(await cache.get('written')).toBe(1);
    expect((await cache.health()).status).toBe('up');
  });
});

describe('keys outside the prefix', () => {
  it('are never read, counted or deleted by scan, pattern operations or invalidateTags', async () => {
    const cache = open();
    const p = cache.prefix;
    // Neighbours that share the prefix as a string, or contain it, with entries they would accept.
    const foreign = [
      `${p}x:orders:1`,
      `${p}x:k`,
      `${p}x::tag:t`,
      `${p}-archive:orders:1`,
      p,
      `x${p}:orders:1`,
    ];
    for (const key of foreign) await redis('SET', key, envelopeText(`foreign ${key}`));

    await cache.set('orders:1', 1, { tags: ['t'] });
    await cache.set('orders:2', 2, { tags: ['t'] });
    await cache.set('k', 3);
    const watch = await monitor(server.port);
    try {
      expect(await collect(cache.scan('*'))).toEqual(['k', 'orders:1', 'orders:2']);
      expect(await collect(cache.scan('orders:*'))).toEqual(['orders:1', 'orders:2']);
      expect(await cache.countByPattern('*')).toBe(3);
      const own = await Promise.all(
        ['k', 'orders:1', 'orders:2'].map((key) => redis('MEMORY', 'USAGE', rawKey(cache, key))),
      );
      expect(await cache.memoryUsageByPattern('*')).toBe(
        own.reduce((sum, bytes) => Number(sum) + Number(bytes), 0),
      );
      await cache.invalidateTags(['t']);
      expect(await cache.countByPattern('*')).toBe(1);
      expect(await cache.deleteByPattern('orders:*')).toBe(2);
      expect(await cache.deleteByPattern('*')).toBe(1);
      expect(await collect(cache.scan('*'))).toEqual([]);

      const log = await watch.flush();
      expect(log).toContain(`"${p}:k"`);
      for (const key of foreign) expect(log, `a command touched ${key}`).not.toContain(`"${key}"`);
    } finally {
      watch.close();
    }
    for (const key of foreign)
      expect(JSON.parse(String(await redis('GET', key))).value).toBe(`foreign ${key}`);
  });
});

describe('keys as data', () => {
  const ids = [
    'a*b',
    'aXb',
    'a?b',
    '[ab]',
    'a',
    'b',
    'a\\b',
    'a:b',
    'a:b:c',
    'ключ 日本 🔑',
    'k'.repeat(2_040),
  ];

  it('glob characters, colons, unicode and 2 KB ids round-trip under their own Redis key', async () => {
    const cache = open();
    for (const [index, id] of ids.entries()) await cache.set(`lit:${id}`, index);
    expect(await cache.getMany(ids.map((id) => `lit:${id}`))).toEqual(ids.map((_, index) => index));
    for (const id of ids) expect(await redis('EXISTS', rawKey(cache, `lit:${id}`)), id.slice(0, 20)).toBe(1);
    expect(await collect(cache.scan('lit:*'))).toEqual(ids.map((id) => `lit:${id}`).sort());
  });

  it('deleteByPattern(escapeGlob(id)) deletes that key only', async () => {
    const cache = open();
    for (const id of ids) await cache.set(`lit:${id}`, id);
    const remaining = new Set(ids);
    for (const id of ids) {
      const pattern = `lit:${escapeGlob(id)}`;
      expect(await cache.countByPattern(pattern), id.slice(0, 20)).toBe(1);
      expect(await cache.deleteByPattern(pattern), id.slice(0, 20)).toBe(1);
      remaining.delete(id);
      expect(await cache.get(`lit:${id}`)).toBeUndefined();
      const left = [...remaining];
      expect(await cache.getMany(left.map((other) => `lit:${other}`))).toEqual(left);
    }
  });
});

describe('physical TTLs in Redis', () => {
  const pttl = (cache: Cache, key: string) => redis('PTTL', rawKey(cache, key)) as Promise<number>;

  it("an entry set with ttl '2s' expires in Redis within 2 s", async () => {
    const cache = open();
    await cache.set('k', 'v', { ttl: '2s' });
    const left = await pttl(cache, 'k');
    expect(left).toBeGreaterThanOrEqual(1);
    expect(left).toBeLessThanOrEqual(2_000);
  });

  it('the default strategy, a hybrid bucket and the default safety TTL give bounded PTTLs', async () => {
    const cache = open();
    await cache.set('default', 1);
    expect(await pttl(cache, 'default')).toBeLessThanOrEqual(300_000);
    expect(await pttl(cache, 'default')).toBeGreaterThan(299_000);
    const orders = cache.domain('orders', { strategy: eventDriven(), buckets: { summaries: {} } });
    await orders.buckets.summaries.set('acc_001', [1]);
    const safety = await pttl(cache, 'orders:summaries:acc_001');
    expect(safety).toBeLessThanOrEqual(12 * 3_600_000);
    expect(safety).toBeGreaterThan(12 * 3_600_000 - 60_000);
  });

  it('an eventDriven({ safetyTtl: 0 }) entry has no expiry in Redis (PTTL -1)', async () => {
    const cache = open({ strategy: eventDriven({ safetyTtl: 0 }) });
    await cache.set('k', 'v');
    await cache.getOrSet('fetched', async () => 'v');
    expect(await pttl(cache, 'k')).toBe(-1);
    expect(await pttl(cache, 'fetched')).toBe(-1);
  });

  it('grace extends the physical TTL past the fresh window', async () => {
    const cache = open({ grace: '10s' });
    await cache.set('k', 'v', { ttl: '2s' });
    await cache.getOrSet('fetched', async () => 'v', { ttl: '2s', grace: '1m' });
    const withGrace = await pttl(cache, 'k');
    expect(withGrace).toBeGreaterThan(2_000);
    expect(withGrace).toBeLessThanOrEqual(12_000);
    const perCall = await pttl(cache, 'fetched');
    expect(perCall).toBeGreaterThan(12_000);
    expect(perCall).toBeLessThanOrEqual(62_000);
  });
});

describe('wire format', () => {
  it('an entry is plain JSON text that redis-cli prints and JSON.parse reads as the envelope', async () => {
    const cache = open();
    const value = { id: 801, lines: [{ sku: 'A', qty: 0 }], note: 'ключ', paid: false, coupon: null };
    await cache.set('orders:detail:801', value, { ttl: '90s', tags: ['account:001'] });
    const { stdout } = await execFileAsync(
      redisBinary('redis-cli'),
      ['-p', String(server.port), '--raw', 'GET', rawKey(cache, 'orders:detail:801')],
      { timeout: 5_000 },
    );
    const envelope = JSON.parse(stdout);
    expect(envelope).toMatchObject({ v: 1, value });
    expect(typeof envelope.createdAt).toBe('number');
    expect(envelope.livesUntil - envelope.createdAt).toBe(90_000);
    expect(Object.keys(envelope.tags)).toEqual(['account:001']);
    expect(typeof (await redis('GET', rawKey(cache, 'orders:detail:801')))).toBe('string');
  });
});

describe('batch operations, memory usage and health', () => {
  it('setMany writes every entry with its ttl and tags, getMany keeps order, deleteMany counts', async () => {
    const cache = open();
    await cache.setMany<unknown>([
      { key: 'a', value: 0, ttl: '2s' },
      { key: 'b', value: null, tags: ['t'] },
      { key: 'c', value: { n: 'c' } },
    ]);
    expect(await redis('PTTL', rawKey(cache, 'a'))).toBeLessThanOrEqual(2_000);
    expect(await cache.getMany(['c', 'missing', 'a', 'b'])).toEqual([{ n: 'c' }, undefined, 0, null]);
    await cache.invalidateTags(['t']);
    expect(await cache.getMany(['a', 'b'])).toEqual([0, undefined]);
    expect(await cache.deleteMany(['a', 'c', 'missing'])).toBe(2);
    expect(await redis('EXISTS', rawKey(cache, 'a'), rawKey(cache, 'c'))).toBe(0);
  });

  it('memoryUsageByPattern is positive and grows with the value size', async () => {
    const cache = open();
    await cache.set('small:1', 'x');
    await cache.set('large:1', 'x'.repeat(50_000));
    const small = await cache.memoryUsageByPattern('small:*');
    const large = await cache.memoryUsageByPattern('large:*');
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small + 40_000);
    expect(await cache.memoryUsageByPattern('*')).toBe(small + large);
  });

  it('health() is up with a measured latency', async () => {
    const cache = open();
    const health = await cache.health();
    expect(health.status).toBe('up');
    expect(health.store).toMatchObject({ name: 'redis', status: 'up', breaker: 'closed' });
    expect(health.store.latencyMs).toBeGreaterThan(0);
    expect(health.store.latencyMs).toBeLessThan(250);
  });
});

describe('redisStore edge cases', () => {
  const key = () => `${uniquePrefix('edge')}:k`;
  const pttl = (name: string) => redis('PTTL', name) as Promise<number>;

  it('ttl 0, undefined and Infinity store without expiry', async () => {
    const adapter = store();
    for (const ttl of [0, undefined, Number.POSITIVE_INFINITY]) {
      const name = key();
      expect(await adapter.set(name, 'v', ttl)).toBe(true);
      expect(await pttl(name), String(ttl)).toBe(-1);
      expect(await adapter.get(name)).toBe('v');
    }
  });

  it('a fractional ttl is rounded up to whole milliseconds', async () => {
    const adapter = store();
    const name = key();
    expect(await adapter.set(name, 'v', 1_500.2)).toBe(true);
    const left = await pttl(name);
    expect(left).toBeGreaterThan(1_000);
    expect(left).toBeLessThanOrEqual(1_501);
    const tiny = key();
    expect(await adapter.set(tiny, 'v', 0.3)).toBe(true);
    expect(await pttl(tiny)).toBeLessThanOrEqual(1);
  });

  it('a negative ttl deletes the key instead of storing it', async () => {
    const adapter = store();
    const name = key();
    await adapter.set(name, 'old');
    expect(await adapter.set(name, 'new', -5)).toBe(true);
    expect(await redis('EXISTS', name)).toBe(0);
  });

  it('a NaN ttl is refused with E_INVALID_OPTION and the previous value stays', async () => {
    const adapter = store();
    const name = key();
    await adapter.set(name, 'old');
    const refused = await adapter.set(name, 'new', Number.NaN).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isCacheError(refused, 'E_INVALID_OPTION'), String(refused)).toBe(true);
    expect(await adapter.get(name)).toBe('old');
    expect(await pttl(name)).toBe(-1);
  });

  it('clear() without a namespace rejects with E_UNSUPPORTED and deletes nothing', async () => {
    const adapter = store();
    const name = key();
    await adapter.set(name, 'v');
    const before = await redis('DBSIZE');
    const refused = await adapter.clear().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isCacheError(refused, 'E_UNSUPPORTED'), String(refused)).toBe(true);
    expect(await redis('DBSIZE')).toBe(before);
    expect(await adapter.get(name)).toBe('v');
  });

  it('clear() with a namespace deletes that namespace only', async () => {
    const namespace = uniquePrefix('ns');
    const adapter = store({ namespace });
    const kept = [`${namespace}x:a`, `${namespace}-archive:a`, namespace, `x${namespace}:a`];
    for (const name of kept) await redis('SET', name, 'keep');
    await adapter.set(`${namespace}:a`, '1');
    await adapter.set(`${namespace}:b:c`, '2');
    await adapter.clear();
    expect(await redis('EXISTS', `${namespace}:a`, `${namespace}:b:c`)).toBe(0);
    for (const name of kept) expect(await redis('GET', name), name).toBe('keep');
  });

  it('disconnect() twice is harmless', async () => {
    const adapter = redisStore({ url: server.url });
    await adapter.set(key(), 'v');
    await adapter.disconnect();
    await adapter.disconnect();
    expect(adapter.connection.isReady).toBe(false);
  });

  it('a client passed in stays open after cache.close(); a store built from a url is closed', async () => {
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      const borrowed = createCache({ store: redisStore({ client }), prefix: uniquePrefix('client') });
      await borrowed.set('k', 1);
      await borrowed.close();
      expect(client.isOpen).toBe(true);
      expect(await client.ping()).toBe('PONG');
      expect(await client.get(`${borrowed.prefix}:k`)).toContain('"value":1');
    } finally {
      await client.close();
    }

    const owned = redisStore({ url: server.url });
    const cache = createCache({ store: owned, prefix: uniquePrefix('owned') });
    await cache.set('k', 1);
    expect(owned.client.isOpen).toBe(true);
    await cache.close();
    expect(owned.client.isOpen).toBe(false);
    expect(owned[storeCapabilities].name).toBe('redis');
  });
});

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const seen: string[] = [];
  for await (const key of keys) seen.push(key);
  return seen.sort();
}

/**
 * Every command the server receives, from MONITOR on a connection of our own. `flush()` sends a
 * marker and waits (bounded) until it shows up, so the log holds everything sent before.
 */
async function monitor(port: number): Promise<{ flush(): Promise<string>; close(): void }> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let log = '';
  socket.on('data', (chunk: string) => {
    log += chunk;
  });
  socket.on('error', () => {});
  socket.write('MONITOR\r\n');
  await waitFor(() => log.startsWith('+OK'), 'MONITOR to start');
  return {
    async flush() {
      const marker = `monitor-marker-${randomBytes(4).toString('hex')}`;
      await redisCommand(port, ['ECHO', marker]);
      await waitFor(() => log.includes(marker), 'the monitor marker');
      return log;
    },
    close: () => socket.destroy(),
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('tag tokens created by racing fetches', () => {
  it('agree on the first token written (SET NX GET): entries fetched at once stay hits', async () => {
    const prefix = uniquePrefix('tag-race');
    // Two caches on one prefix stand for two processes that both find the tag without a token.
    const caches = [open({ prefix }), open({ prefix })];
    let fetches = 0;
    const ids = [1, 2, 3, 4, 5, 6];
    const load = (id: number) =>
      (caches[id % 2] as Cache).getOrSet(
        `catalog:bundles:${id}`,
        () => {
          fetches++;
          return { id };
        },
        { tags: ['product:A'] },
      );
    await Promise.all(ids.map(load));
    expect(fetches).toBe(6);
    await Promise.all(ids.map(load));
    expect(fetches).toBe(6);
    // Still one token: invalidating it reaches every entry, whoever created the token.
    await (caches[0] as Cache).invalidateTags(['product:A']);
    for (const id of ids) expect(await (caches[1] as Cache).get(`catalog:bundles:${id}`)).toBeUndefined();
  });
});
