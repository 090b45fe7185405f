import { isCacheError } from '@org/cache-core';
import { type RedisBus, redisBus } from '@org/cache-redis';
import { type RedisServer, redisCommand, startRedisServer, uniquePrefix } from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

const buses: RedisBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((bus) => bus.close()));
});

function bus(channel: string): RedisBus {
  const created = redisBus({ url: server.url, channel });
  buses.push(created);
  return created;
}

/** Polls `condition` every 10 ms; fails with `what` after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const subscribers = (channel: string) =>
  redisCommand(server.port, ['PUBSUB', 'NUMSUB', channel]).then((reply) => Number((reply as unknown[])[1]));

describe('redisBus', () => {
  it('a published message reaches every subscriber on the channel, the publisher’s own included', async () => {
    const channel = uniquePrefix('bus');
    const first = bus(channel);
    const second = bus(channel);
    const other = bus(`${channel}-other`);
    const received = { first: [] as string[], second: [] as string[], other: [] as string[] };
    first.subscribe((message) => received.first.push(message));
    second.subscribe((message) => received.second.push(message));
    other.subscribe((message) => received.other.push(message));
    await Promise.all([first.ready(), second.ready(), other.ready()]);

    await first.publish('key:orders:1');
    await second.publish('tag:account:001 ✓');
    await waitFor(
      () => received.first.length === 2 && received.second.length === 2,
      'both messages on both buses',
    );
    expect(received.first).toEqual(['key:orders:1', 'tag:account:001 ✓']);
    expect(received.second).toEqual(['key:orders:1', 'tag:account:001 ✓']);
    await other.publish('ping');
    await waitFor(() => received.other.length === 1, 'the other channel’s own message');
    expect(received.other).toEqual(['ping']);
  });

  it('connected is false before a subscription and true once ready() resolves', async () => {
    const channel = uniquePrefix('bus');
    const subject = bus(channel);
    expect(subject.connected).toBe(false);
    const changes: boolean[] = [];
    subject.onConnectionChange((connected) => changes.push(connected));
    await subject.ready();
    expect(subject.connected).toBe(true);
    expect(changes).toEqual([true]);
    expect(await subscribers(channel)).toBe(1);
  });

  it('close() twice is harmless, and a closed bus is unsubscribed from the server', async () => {
    const channel = uniquePrefix('bus');
    const subject = redisBus({ url: server.url, channel });
    subject.subscribe(() => {});
    await subject.ready();
    expect(await subscribers(channel)).toBe(1);
    await subject.close();
    await subject.close();
    // The server notices the closed connection a moment later.
    const deadline = Date.now() + 2_000;
    while ((await subscribers(channel)) !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await subscribers(channel)).toBe(0);
    expect(subject.connected).toBe(false);
  });

  it('100 subscribe/unsubscribe cycles leave no listener behind and one server subscription', async () => {
    const channel = uniquePrefix('bus');
    const subject = bus(channel);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
    process.on('warning', onWarning);
    try {
      let stale = 0;
      for (let cycle = 0; cycle < 100; cycle++) {
        const unsubscribe = subject.subscribe(() => stale++);
        if (cycle === 0) await subject.ready();
        unsubscribe();
        subject.onConnectionChange(() => {})();
      }
      const live: string[] = [];
      subject.subscribe((message) => live.push(message));
      await subject.ready();
      await subject.publish('after');
      await waitFor(() => live.length === 1, 'the live listener’s message');
      await subject.publish('again');
      await waitFor(() => live.length === 2, 'the second message');
      expect(stale).toBe(0);
      expect(live).toEqual(['after', 'again']);
      expect(await subscribers(channel)).toBe(1);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  describe('with Redis unreachable from the start', () => {
    let gone: string;
    beforeAll(async () => {
      const stopped = await startRedisServer();
      gone = stopped.url;
      await stopped.stop();
    });

    it('a publish sent during the first connection attempt settles within a bounded time', async () => {
      const subject = redisBus({ url: gone, channel: uniquePrefix('bus') });
      buses.push(subject);
      const outcome = await Promise.race([
        subject.publish('m').then(
          () => 'resolved',
          () => 'rejected',
        ),
        new Promise((resolve) => setTimeout(() => resolve('still pending after 3 s'), 3_000)),
      ]);
      expect(outcome).toBe('rejected');
    });

    it('a publish that cannot reach Redis rejects with a CacheError', async () => {
      const subject = redisBus({ url: gone, channel: uniquePrefix('bus') });
      buses.push(subject);
      await waitFor(() => subject.connection.errors > 0, 'the first connection error');
      const failure = await subject.publish('m').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isCacheError(failure), `publish rejected with: ${String(failure)}`).toBe(true);
    });
  });

  it('reports a killed server within a bounded time, fails publishes fast, and recovers after restart', async () => {
    const channel = uniquePrefix('bus');
    const subscriber = bus(channel);
    const publisher = bus(channel);
    const received: string[] = [];
    subscriber.subscribe((message) => received.push(message));
    const changes: boolean[] = [];
    subscriber.onConnectionChange((connected) => changes.push(connected));
    await Promise.all([subscriber.ready(), publisher.ready()]);
    await publisher.publish('before');
    await waitFor(() => received.length === 1, 'the message before the kill');

    try {
      await server.kill();
      await waitFor(() => subscriber.connected === false, 'connected to turn false', 5_000);
      expect(changes).toEqual([true, false]);

      const started = Date.now();
      const outcome = await Promise.race([
        publisher.publish('lost').then(
          () => 'resolved',
          () => 'rejected',
        ),
        new Promise((resolve) => setTimeout(() => resolve('still pending after 2 s'), 2_000)),
      ]);
      expect(outcome).toBe('rejected');
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await server.restart();
    }

    await waitFor(() => subscriber.connected, 'connected to turn true after the restart', 10_000);
    expect(changes).toEqual([true, false, true]);
    expect(await subscribers(channel)).toBeGreaterThanOrEqual(1);
    // The publisher's own connection comes back on its own schedule: retry until a message lands.
    const deadline = Date.now() + 10_000;
    while (!received.includes('after') && Date.now() < deadline) {
      await publisher.publish('after').catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(received).toContain('after');
    expect(received).not.toContain('lost');
  });
});
