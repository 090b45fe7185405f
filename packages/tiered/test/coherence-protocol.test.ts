import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  flakyPublish,
  flush,
  instances,
  received,
  type UnitInstance,
} from './support/in-process.js';

// The L1 coherence protocol with an in-process bus (no Redis): what happens to messages when
// publishing fails, when the retry queue overflows, and when a message cannot be read.

const open: UnitInstance[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((instance) => instance.store.disconnect()));
});

function pair(options: { busQueueSize?: number } = {}) {
  const setup = instances(2, options);
  const [a, b] = setup.instances as [UnitInstance, UnitInstance];
  open.push(a, b);
  return { ...setup, a, b };
}

/** B reads every key once (L2 -> L1) and checks the next read is an L1 hit. */
async function fillL1(b: UnitInstance, keys: string[], expected: string): Promise<void> {
  for (const key of keys) expect(await b.store.get(key)).toBe(expected);
  const hits = b.store.stats.l1Hits;
  for (const key of keys) expect(await b.store.get(key)).toBe(expected);
  expect(b.store.stats.l1Hits - hits).toBe(keys.length);
}

const keys = (count: number) => Array.from({ length: count }, (_, index) => `k${index + 1}`);

describe('coherence protocol: publishing', () => {
  it('ignores an instance’s own messages: its L1 copy survives its own write', async () => {
    const { a } = pair();
    await a.store.set('k', 'v');
    await flush();
    const reads = a.l2.reads;
    expect(await a.store.get('k')).toBe('v');
    expect(a.l2.reads).toBe(reads);
    expect(a.store.stats.bus?.received).toBe(0);
  });

  it('retries failed publishes from its queue, in order, and counts every failure', async () => {
    const { a, b } = pair();
    const messages = received(b.bus);
    const flaky = flakyPublish(a.bus);
    const written = keys(5);
    for (const key of written) await a.store.set(key, 'old');
    await eventually('B got the first five messages', () => messages.length === 5);
    await fillL1(b, written, 'old');

    flaky.failNext(3);
    for (const key of written) await a.store.set(key, 'new');
    // Until the retries get through, B still has 'old' in L1: nothing told it otherwise.
    expect(a.store.stats.bus?.publishFailures).toBeGreaterThan(0);
    await eventually(
      'A’s queue drains',
      () => a.store.stats.bus?.queued === 0 && messages.length === 10,
      5_000,
    );

    expect(a.store.stats.bus).toMatchObject({ publishFailures: 3, published: 10, queued: 0, dropped: 0 });
    expect(messages.map((message) => message?.s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(messages.slice(5).map((message) => message?.k)).toEqual(written.map((key) => [key]));
    expect(b.store.stats.bus).toMatchObject({ gaps: 0, received: 10 });
    for (const key of written) expect(await b.store.get(key)).toBe('new');
  });

  it('keeps messages in order when a failed publish settles after a later one went through', async () => {
    // A publish that fails slowly (a timeout, a connection dropped with the command in flight)
    // must not let the next message overtake it: receivers would see the sequence go backwards
    // and then a false gap, and drop their whole L1 for nothing.
    const { a, b } = pair();
    const messages = received(b.bus);
    const flaky = flakyPublish(a.bus);
    await a.store.set('k0', 'old');
    await eventually('first message', () => messages.length === 1);
    for (const key of ['k1', 'k2', 'k3']) await a.store.set(key, 'old');
    await eventually('B got four messages', () => messages.length === 4);
    await fillL1(b, ['k1', 'k2', 'k3'], 'old');
    const resets = b.store.stats.l1Resets;

    flaky.failNextAfter(30);
    await a.store.set('k1', 'new'); // its publish fails after 30 ms, then is retried
    await a.store.set('k2', 'new'); // published at once
    await eventually(
      'A’s queue drains',
      () => flaky.rejected === 1 && a.store.stats.bus?.queued === 0,
      5_000,
    );
    await a.store.set('k3', 'new');
    await eventually('B got every message', () => messages.length === 7, 5_000);

    expect(messages.map((message) => message?.s)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(b.store.stats.bus?.gaps).toBe(0);
    expect(b.store.stats.l1Resets).toBe(resets);
  });

  it('drops the oldest messages when the queue overflows, counts them, and receivers see the gap', async () => {
    const { a, b, l2 } = pair({ busQueueSize: 2 });
    const flaky = flakyPublish(a.bus);
    const written = keys(4);
    for (const key of written) await a.store.set(key, 'old');
    await flush();
    await fillL1(b, written, 'old');
    const resets = b.store.stats.l1Resets;

    flaky.failing = true;
    for (const key of written) await a.store.set(key, 'new');
    expect(a.store.stats.bus).toMatchObject({ dropped: 2, queued: 2 });
    // L2 has moved on; B's L1 does not know yet (the bus is down for A).
    expect(await l2.get('k1')).toBe('new');
    flaky.failing = false;
    await eventually('A’s queue drains', () => a.store.stats.bus?.queued === 0, 5_000);
    await flush();

    // k1's and k2's messages were dropped: only the gap in A's sequence tells B, which drops L1.
    expect(b.store.stats.bus?.gaps).toBe(1);
    expect(b.store.stats.l1Resets).toBe(resets + 1);
    for (const key of written) expect(await b.store.get(key)).toBe('new');
  });
});

describe('coherence protocol: receiving', () => {
  it('drops L1 and counts a message it cannot read (it may have been an invalidation)', async () => {
    const { a, b, l2 } = pair();
    await a.store.set('k', 'old');
    await flush();
    await fillL1(b, ['k'], 'old');
    // Another writer changed L2 and its message arrives mangled: B cannot tell what it named.
    await l2.set('k', 'new');
    const resets = b.store.stats.l1Resets;
    const garbage = [
      'not json',
      '{"v":2,"i":"x","s":1,"k":["k"]}',
      '{"v":1,"i":"x","s":1,"k":[1]}',
      '{"v":1,"s":1}',
    ];
    for (const message of garbage) {
      expect(await b.store.get('k')).toBe(b.store.stats.bus?.unreadable === 0 ? 'old' : 'new');
      await a.bus.publish(message);
      await flush();
    }
    expect(b.store.stats.bus?.unreadable).toBe(garbage.length);
    expect(b.store.stats.l1Resets).toBe(resets + garbage.length);
    const reads = b.l2.reads;
    expect(await b.store.get('k')).toBe('new');
    expect(b.l2.reads).toBe(reads + 1);
    // Refilled, and trusted again: the next read is an L1 hit.
    expect(await b.store.get('k')).toBe('new');
    expect(b.l2.reads).toBe(reads + 1);
  });

  it('drops the named keys on a well-formed message from another sender', async () => {
    const { a, b, l2 } = pair();
    await a.store.set('k', 'old');
    await a.store.set('other', 'same');
    await flush();
    await fillL1(b, ['k'], 'old');
    await fillL1(b, ['other'], 'same');
    await l2.set('k', 'new');
    await a.bus.publish(JSON.stringify({ v: 1, i: 'another-instance', s: 1, k: ['k'] }));
    await flush();
    expect(await b.store.get('k')).toBe('new');
    const reads = b.l2.reads;
    expect(await b.store.get('other')).toBe('same');
    expect(b.l2.reads, 'keys the message did not name stay in L1').toBe(reads);
    expect(b.store.stats.bus).toMatchObject({ received: 3, unreadable: 0, gaps: 0 });
  });
});
