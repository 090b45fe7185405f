import { measure, type RedisServer, startRedisServer } from '@org/cache-test-support';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { orderEvent, pendingCount, recordingContext, StreamFixtures, waitFor } from './support/streams.js';

// Redis killed, restarted and stopped under a running source: each test starts its own
// redis-server (the harness stops it by pid) and never touches the shared one.

const servers: RedisServer[] = [];
const fixtures: StreamFixtures[] = [];
afterEach(async () => {
  await Promise.allSettled(fixtures.splice(0).map((each) => each.close()));
  await Promise.allSettled(servers.splice(0).map((server) => server.stop()));
});
afterAll(async () => {
  await Promise.allSettled(servers.map((server) => server.stop()));
});

async function ownServer(args: string[] = []): Promise<{ server: RedisServer; on: StreamFixtures }> {
  const server = await startRedisServer({ args });
  servers.push(server);
  const on = new StreamFixtures(server.url);
  fixtures.push(on);
  return { server, on };
}

const fast = { block: 100, claimIdle: 300, claimInterval: 100, retryDelay: 50, maxRetryDelay: 200 } as const;

/** Appends, retrying while the publisher's connection comes back after a restart (bounded). */
async function appendWhenUp(
  publisher: { append(event: ReturnType<typeof orderEvent>): Promise<string> },
  event: ReturnType<typeof orderEvent>,
): Promise<string> {
  let id = '';
  await waitFor('the publisher appended', async () => {
    id = await publisher.append(event);
    return true;
  });
  return id;
}

describe('redisStreamSource when Redis fails', { timeout: 30_000 }, () => {
  it('Redis restarted with its data (AOF): the source reconnects and applies the later events, nothing twice', async () => {
    const { server, on } = await ownServer(['--appendonly', 'yes', '--appendfsync', 'always']);
    const stream = on.stream('restart-aof');
    const context = recordingContext();
    const source = on.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    const publisher = on.publisher({ stream });
    const before = orderEvent('before');
    await publisher.append(before);
    await waitFor('applied before the restart', () => context.applied.length === 1);
    await waitFor('acknowledged', async () => (await pendingCount(server.url, stream, 'bff')) === 0);

    await server.restart();
    // Appended while the source may still be reconnecting: it is the group's, so it is read.
    const during = orderEvent('during');
    await appendWhenUp(publisher, during);
    await waitFor('applied after the restart', () => context.applied.length === 2, { timeoutMs: 10_000 });
    const after = orderEvent('after');
    await publisher.append(after);
    await waitFor('the next one applied', () => context.applied.length === 3);
    expect(context.changeIds()).toEqual([before.changeId, during.changeId, after.changeId]);
    expect(context.failSafes).toEqual([]);
    await waitFor('all acknowledged', () => source.health().acked === 3);
    expect(source.health()).toMatchObject({ status: 'up', failSafes: 0 });
  });

  it('Redis restarted empty: the source creates its group again, fails safe once, and applies the later events', async () => {
    const { server, on } = await ownServer();
    const stream = on.stream('restart-empty');
    const context = recordingContext();
    const source = on.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    const publisher = on.publisher({ stream });
    await publisher.append(orderEvent('before'));
    await waitFor('applied before the restart', () => context.applied.length === 1);

    await server.restart();
    await waitFor('the fail-safe after the group was lost', () => context.failSafes.length === 1, {
      timeoutMs: 10_000,
    });
    expect(context.failSafes[0]).toMatch(/consumer group bff of .* disappeared/);
    await waitFor('up again', () => source.health().status === 'up');
    const later = orderEvent('later');
    await appendWhenUp(publisher, later);
    await waitFor('the later event applied', () => context.applied.length === 2);
    expect(context.applied[1]).toEqual(later);
    expect(source.health()).toMatchObject({ status: 'up', failSafes: 1 });
  });

  it('health is down while Redis is down; stop() then resolves in bounded time, and again', async () => {
    const { server, on } = await ownServer();
    const stream = on.stream('stop-while-down');
    const context = recordingContext();
    const source = on.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    await server.kill();
    await waitFor('health down', () => source.health().status === 'down');
    expect(source.health().reason).toMatch(/cannot read the stream/);

    const started = performance.now();
    const outcome = await Promise.race([
      source.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(() => resolve('still stopping after 5 s'), 5_000)),
    ]);
    const took = performance.now() - started;
    measure(`[cdc] stop() with Redis down resolved in ${took.toFixed(1)} ms`);
    expect(outcome).toBe('stopped');
    await source.stop();
    expect(source.health()).toMatchObject({ status: 'down', reason: 'stopped' });
  });

  it('Redis down when the source starts: start() resolves, the source reports down, and works once Redis is up', async () => {
    const { server, on } = await ownServer();
    const stream = on.stream('down-at-start');
    await server.kill();
    const context = recordingContext();
    const source = on.source({ stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    expect(source.health().status).toBe('down');

    await server.restart();
    await waitFor('up once Redis is', () => source.health().status === 'up', { timeoutMs: 10_000 });
    const event = orderEvent('1');
    await appendWhenUp(on.publisher({ stream }), event);
    await waitFor('applied', () => context.applied.length === 1);
    expect(context.applied).toEqual([event]);
    // The group was created for the first time: nothing was missed, so no fail-safe.
    expect(context.failSafes).toEqual([]);
  });
});
