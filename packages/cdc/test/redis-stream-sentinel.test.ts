import {
  type RespReply,
  redisCommand,
  type SentinelSetup,
  startSentinelSetup,
  uniquePrefix,
} from '@org/cache-test-support';
import { createSentinel } from '@redis/client';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { InvalidationEvent, RedisStreamPublisher } from '../src/index.js';
import { orderEvent, recordingContext, StreamFixtures, waitFor } from './support/streams.js';

// The Redis Streams source and publisher through Redis Sentinel (a master, one replica and three
// Sentinels started for this file, stopped by pid): the blocking read gets a Sentinel client of
// its own, and both follow the master through a failover.

const setups: SentinelSetup[] = [];
const fixtures: StreamFixtures[] = [];
afterEach(async () => {
  await Promise.allSettled(fixtures.splice(0).map((each) => each.close()));
});
afterAll(async () => {
  await Promise.allSettled(setups.map((setup) => setup.stop()));
});

const fast = { block: 100, claimIdle: 300, claimInterval: 100, retryDelay: 50, maxRetryDelay: 200 } as const;
/** A Sentinel failover takes a few seconds (down-after 1.5 s, then the election). */
const FAILOVER_WAIT = { timeoutMs: 30_000 };

async function sentinelSetup(): Promise<SentinelSetup> {
  const setup = await startSentinelSetup();
  setups.push(setup);
  return setup;
}

/** Un-acknowledged entries of the group, read on `port` itself. */
async function pendingOn(port: number, stream: string): Promise<number> {
  return Number(((await redisCommand(port, ['XPENDING', stream, 'bff'])) as RespReply[])[0]);
}

/** Appends, retrying while the publisher's connection moves to the new master (bounded). */
async function appendWhenUp(publisher: RedisStreamPublisher, event: InvalidationEvent): Promise<void> {
  await waitFor(
    'the publisher appended',
    async () => {
      await publisher.append(event);
      return true;
    },
    FAILOVER_WAIT,
  );
}

describe('redisStreamSource and redisStreamPublisher through Redis Sentinel', { timeout: 120_000 }, () => {
  it('apply events through the master; after a failover, the later events too: nothing lost, nothing twice', async () => {
    const setup = await sentinelSetup();
    const master = await setup.master();
    const each = new StreamFixtures(master.url);
    fixtures.push(each);
    const target = { sentinel: { name: setup.name, sentinelRootNodes: setup.sentinelRootNodes } };
    const stream = `${uniquePrefix('sentinel')}:cdc`;
    const context = recordingContext();
    const source = each.source({ ...target, stream, group: 'bff', consumer: 'c1', ...fast });
    await source.start(context);
    const publisher = each.publisher({ ...target, stream });

    const before = [orderEvent('b1'), orderEvent('b2')];
    for (const event of before) await appendWhenUp(publisher, event);
    await waitFor('applied through the master', () => context.applied.length === 2, FAILOVER_WAIT);
    await waitFor('acknowledged on the master', async () => (await pendingOn(master.port, stream)) === 0);
    // The blocking read is on a connection of its own (the Sentinel client duplicate() opened).
    await waitFor('the read blocked on its own connection', async () => {
      const clients = String(await redisCommand(master.port, ['CLIENT', 'LIST']));
      return /name=cdc-read-c1 .*flags=\S*b/.test(clients) && / name=cdc-c1 /.test(clients);
    });

    const promoted = await setup.failover();
    expect(promoted.port).not.toBe(master.port);
    const after: InvalidationEvent[] = [];
    for (let index = 0; index < 3; index++) {
      const event = orderEvent(`a${index}`);
      await appendWhenUp(publisher, event);
      after.push(event);
    }
    await waitFor('applied after the failover', () => context.applied.length === 5, FAILOVER_WAIT);
    expect(context.changeIds()).toEqual([...before, ...after].map((event) => event.changeId));
    expect(Number(await redisCommand(promoted.port, ['XLEN', stream]))).toBe(5);
    await waitFor(
      'up, everything acknowledged on the new master',
      async () => (await pendingOn(promoted.port, stream)) === 0 && source.health().status === 'up',
      FAILOVER_WAIT,
    );
    expect(context.failSafes).toEqual([]);
    expect(source.health()).toMatchObject({ failSafes: 0, lost: 0, acked: 5 });
  });

  it('a borrowed Sentinel client: start() refuses with E_INVALID_OPTION (it cannot be duplicated for the blocking read)', async () => {
    const setup = setups[0] ?? (await sentinelSetup());
    const client = createSentinel({ name: setup.name, sentinelRootNodes: setup.sentinelRootNodes });
    client.on('error', () => {});
    await client.connect();
    try {
      const each = new StreamFixtures((await setup.master()).url);
      fixtures.push(each);
      const source = each.source({
        client,
        stream: `${uniquePrefix('borrowed-sentinel')}:cdc`,
        group: 'bff',
        consumer: 'c1',
      });
      await expect(source.start(recordingContext())).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message: expect.stringMatching(/give `sentinel` options instead/),
      });
      expect(source.health()).toMatchObject({ status: 'down', reason: 'stopped' });
      // The borrowed client is left open.
      expect(client.isOpen).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
