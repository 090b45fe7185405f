import { redisStreamPublisher } from '@org/cache-cdc';
import { type Cache, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { records, startCachectl } from './support/cachectl.js';
import { type RedisServer, startRedisServer } from './support/redis.js';
import { Sdk } from './support/sdk.js';

// watch, as a process: what application instances publish on the tiered store's bus and what a
// CDC bridge appends to the Redis stream, as the operator sees it live.

let redis: RedisServer;
const sdk = new Sdk(() => redis.url);

beforeAll(async () => {
  redis = await startRedisServer();
}, 30_000);

afterAll(async () => {
  await sdk.closeAll();
  await redis?.stop();
});

/** An application instance: memory L1 in front of Redis, kept coherent by the bus. */
async function instance(prefix: string, channel: string): Promise<Cache> {
  const bus = redisBus({ url: redis.url, channel });
  const cache = createCache({
    store: tieredStore({ l1: memoryStore(), l2: redisStore({ url: redis.url }), bus }),
    prefix,
    operationTimeout: '30s',
  });
  sdk.track(cache);
  await bus.ready();
  return cache;
}

it('--json: bus invalidations of this prefix and CDC stream events, one record each, until --count', async () => {
  const channel = 'app:cache-bus';
  const stream = 'cdc:salesforce';
  const app = await instance('live', channel);
  const neighbour = await instance('otherapp', channel);
  await app.setMany([
    { key: 'orders:detail:801', value: { id: 801 }, tags: ['account:001'] },
    { key: 'orders:detail:802', value: { id: 802 } },
  ]);
  const publisher = redisStreamPublisher({ url: redis.url, stream });
  sdk.track(publisher);
  await publisher.append({ source: 'salesforce', entity: 'Order', ids: ['700'], kind: 'update' }); // before: not shown

  const watcher = startCachectl(
    [
      'watch',
      '--bus-channel',
      channel,
      '--stream',
      stream,
      '--json',
      '--count',
      '6',
      '--url',
      redis.url,
      '--prefix',
      'live',
    ],
    { killAfterMs: 60_000 },
  );
  await watcher.waitForStderr('watching');
  await neighbour.set('orders:detail:801', 'theirs'); // another prefix on the same channel: filtered out
  await app.delete('orders:detail:801');
  await app.invalidateTags(['account:001']);
  await app.deleteByPattern('orders:*');
  await publisher.append({
    source: 'salesforce',
    entity: 'Order',
    ids: ['801', '802'],
    kind: 'update',
    fields: ['Status'],
  });
  const store = sdk.store();
  await store.connection.command(['XADD', stream, '*', 'event', '{not json'], stream);

  const finished = await watcher.finished;
  expect(finished.stderr).not.toContain('cachectl:');
  expect(finished.code).toBe(0);
  const events = records(finished.stdout);
  expect(events).toHaveLength(6);
  const bus = events.filter((event) => event.source === 'bus');
  const fromStream = events.filter((event) => event.source === 'stream');
  const common = {
    source: 'bus',
    at: expect.any(String),
    channel,
    sender: expect.any(String),
    sequence: expect.any(Number),
    all: false,
  };
  expect(bus[0]).toEqual({ ...common, keys: ['orders:detail:801'], tags: [], patterns: [] });
  expect(bus[1]).toEqual({ ...common, keys: [], tags: ['account:001'], patterns: [] });
  // A pattern delete tells the others the pattern (leases revoked), then the keys it deleted.
  expect(bus[2]).toEqual({ ...common, keys: [], tags: [], patterns: ['orders:*'] });
  expect(bus[3]).toEqual({ ...common, keys: ['orders:detail:802'], tags: [], patterns: [] });
  expect(fromStream).toEqual([
    {
      source: 'stream',
      at: expect.any(String),
      stream,
      id: expect.stringMatching(/^\d+-\d+$/),
      event: {
        source: 'salesforce',
        entity: 'Order',
        ids: ['801', '802'],
        kind: 'update',
        fields: ['Status'],
      },
    },
    {
      source: 'stream',
      at: expect.any(String),
      stream,
      id: expect.any(String),
      malformed: expect.stringContaining('JSON'),
    },
  ]);
});

it('prints for people and ends with exit 0 on Ctrl-C (SIGINT)', async () => {
  const stream = 'cdc:people';
  const publisher = redisStreamPublisher({ url: redis.url, stream });
  sdk.track(publisher);
  const watcher = startCachectl(['watch', '--stream', stream, '--url', redis.url, '--prefix', 'live'], {
    killAfterMs: 60_000,
  });
  await watcher.waitForStderr("watching stream 'cdc:people' for prefix 'live'");
  await publisher.append({ source: 'salesforce', entity: 'Product2', ids: '*', kind: 'unknown', gap: true });
  while (!watcher.stdout().includes('\n')) await new Promise((resolve) => setTimeout(resolve, 20));
  watcher.signal('SIGINT');
  const finished = await watcher.finished;
  expect(finished.code).toBe(0);
  expect(finished.stdout).toMatch(
    /^\S+Z stream {2}salesforce Product2 unknown \(gap\) all records \(\d+-\d+\)\n$/,
  );
});
