import { type RedisServer, startRedisServer, uniquePrefix } from '@org/cache-test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisStreamPublisher, redisStreamPublisher } from '../src/index.js';
import {
  ApplicationLog,
  Instance,
  type InstanceConfig,
  now,
  report,
  sleep,
  stopAllInstances,
} from './support/cdc-instances.js';
import { orderEvent, pendingByConsumer, pendingCount, waitFor } from './support/streams.js';

// The claim of the issue, with real processes: two service instances (separate Node processes,
// each a tiered store: memory L1, Redis L2, Redis bus) read CDC events from one Redis stream that a
// bridge (this test process) appends to. Both instances stop serving the changed order's entries
// within 100 ms of the append; a killed instance, restarted under its consumer name, picks up
// from its position; no event is applied twice within a group. On a redis-server of our own.

const LIMIT_MS = 100;
const WARM_UP_TRIALS = 2;
const TRIALS = 5;

let server: RedisServer;
const publishers: RedisStreamPublisher[] = [];
beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await stopAllInstances();
  await Promise.allSettled(publishers.splice(0).map((publisher) => publisher.close()));
});
afterAll(() => server?.stop());

interface Deployment {
  stream: string;
  publisher: RedisStreamPublisher;
  log: ApplicationLog;
  config(name: string): InstanceConfig;
  start(name: string): Promise<Instance>;
}

/** One service's stream, key prefix and bus channel; `groupOf` chooses each instance's group. */
function deployment(
  label: string,
  groupOf: (instance: string) => string,
  extra: Partial<InstanceConfig> = {},
): Deployment {
  const base = uniquePrefix(label);
  const stream = `${base}:cdc`;
  const publisher = redisStreamPublisher({ url: server.url, stream });
  publishers.push(publisher);
  const log = new ApplicationLog();
  const config = (name: string): InstanceConfig => ({
    name,
    url: server.url,
    prefix: base,
    channel: `${base}-bus`,
    stream,
    group: groupOf(name),
    consumer: name,
    ...extra,
  });
  return { stream, publisher, log, config, start: (name) => Instance.start(config(name), log) };
}

/** Reads `key` until the instance answers it from L1 (at most 5 reads). */
async function fillL1(instance: Instance, key: string, expected: unknown): Promise<void> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const read = await instance.probe(key);
    expect(read.value, `${instance.name}'s read of ${key}`).toEqual(expected);
    if (read.l1Hit) return;
  }
  expect.fail(`${instance.name}'s L1 never held ${key}`);
}

interface TrialResult {
  changeId: string;
  /** Per instance: from the start of the append to the last dependent entry observed missing. */
  missMs: Record<string, number>;
  appendMs: number;
}

/**
 * Both instances hold entries of orders `A<n>` and `B<n>` in L1; the bridge appends a change of
 * `A<n>`; both poll (every ms) until A's dependents miss. B's entries and an untagged one must stay.
 */
async function trial(
  instances: Instance[],
  publisher: RedisStreamPublisher,
  n: number,
): Promise<TrialResult> {
  const [a, b] = [`A${n}`, `B${n}`];
  const dependents = { [`orders:detail:${a}`]: { id: a }, [`orders:summary:${a}`]: { id: a, lines: 2 } };
  const kept = { [`orders:detail:${b}`]: { id: b }, [`catalog:product:${n}`]: { sku: n } };
  const writer = instances[0] as Instance;
  await writer.set(`orders:detail:${a}`, dependents[`orders:detail:${a}`], [`order:${a}`]);
  await writer.set(`orders:summary:${a}`, dependents[`orders:summary:${a}`], [`order:${a}`, 'account:1']);
  await writer.set(`orders:detail:${b}`, kept[`orders:detail:${b}`], [`order:${b}`]);
  await writer.set(`catalog:product:${n}`, kept[`catalog:product:${n}`]);
  for (const instance of instances)
    for (const [key, value] of Object.entries({ ...dependents, ...kept })) await fillL1(instance, key, value);

  for (const instance of instances) await instance.watchMisses(Object.keys(dependents));
  await sleep(5); // both are polling (L1 hits) before the change is appended
  const event = orderEvent(a);
  const appendStart = now();
  await publisher.append(event);
  const appendEnd = now();
  const missMs: Record<string, number> = {};
  for (const instance of instances) {
    const { seenAt } = await instance.misses();
    for (const key of Object.keys(dependents))
      expect(seenAt[key], `${instance.name} still served ${key} after 3 s`).toBeDefined();
    missMs[instance.name] = Math.max(...Object.values(seenAt)) - appendStart;
  }
  for (const instance of instances)
    for (const [key, value] of Object.entries(kept))
      expect(await instance.probe(key), `${instance.name}'s ${key}`).toEqual({ value, l1Hit: true });
  return { changeId: event.changeId as string, missMs, appendMs: appendEnd - appendStart };
}

/**
 * Warm-up trials first (fresh processes: JIT, first commands), then measured ones. A measured
 * trial over the limit is run once more: on this shared 2-core machine one stalled time slice of
 * one of four processes is not what is measured, while a real delay fails both attempts.
 */
async function measure(instances: Instance[], deployment: Deployment, label: string): Promise<string[]> {
  const changeIds: string[] = [];
  let n = 0;
  for (let warmUp = 1; warmUp <= WARM_UP_TRIALS; warmUp++) {
    const result = await trial(instances, deployment.publisher, ++n);
    changeIds.push(result.changeId);
    report(`${label} warm-up ${warmUp}`, summary(result));
  }
  const worst: number[] = [];
  for (let measured = 1; measured <= TRIALS; measured++) {
    let result = await trial(instances, deployment.publisher, ++n);
    changeIds.push(result.changeId);
    report(`${label} trial ${measured}`, summary(result));
    if (slowest(result) >= LIMIT_MS) {
      result = await trial(instances, deployment.publisher, ++n);
      changeIds.push(result.changeId);
      report(`${label} trial ${measured}, retried once`, summary(result));
    }
    worst.push(slowest(result));
    expect(slowest(result), `trial ${measured}: append -> miss on both instances`).toBeLessThan(LIMIT_MS);
  }
  report(
    `${label} append -> both instances miss (${TRIALS} trials)`,
    `worst ${Math.max(...worst).toFixed(2)} ms, median ${median(worst).toFixed(2)} ms (limit ${LIMIT_MS} ms)`,
  );
  return changeIds;

  function summary(result: TrialResult): string {
    const misses = Object.entries(result.missMs)
      .map(([name, ms]) => `${name} ${ms.toFixed(2)} ms`)
      .join(', ');
    const appliers = deployment.log.applications
      .filter((applied) => applied.changeId === result.changeId)
      .map((applied) => applied.instance);
    return `append -> miss: ${misses} (XADD ${result.appendMs.toFixed(2)} ms; applied by ${appliers.join(' and ') || 'not reported yet'})`;
  }
}

const slowest = (result: TrialResult) => Math.max(...Object.values(result.missMs));
const median = (values: number[]) =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;

/** Appends and waits until the event was applied `times` times across the log (bounded). */
async function appendAndWait(deployment: Deployment, orderId: string, groups: string[]): Promise<string> {
  const event = orderEvent(orderId);
  await deployment.publisher.append(event);
  const changeId = event.changeId as string;
  await waitFor(`${changeId} applied in ${groups.join(', ')}`, () =>
    groups.every((group) => (deployment.log.countsIn(group, [changeId])[changeId] ?? 0) >= 1),
  );
  return changeId;
}

function expectOncePerGroup(log: ApplicationLog, group: string, changeIds: string[]): void {
  expect(log.countsIn(group, changeIds), `applications per event in group ${group}`).toEqual(
    Object.fromEntries(changeIds.map((id) => [id, 1])),
  );
}

/** Makes `holder` keep the next event it is delivered: appends until it has one (bounded). */
async function holdOne(deployment: Deployment, holder: Instance, others: string[]): Promise<string[]> {
  await holder.hold(true);
  const appended: string[] = [];
  for (let attempt = 1; attempt <= 20; attempt++) {
    const event = orderEvent(`held-${attempt}`);
    await deployment.publisher.append(event);
    appended.push(event.changeId as string);
    await waitFor(
      'the event applied or held',
      () =>
        deployment.log.held.some((held) => held.changeId === event.changeId) ||
        others.some(
          (group) =>
            (deployment.log.countsIn(group, [event.changeId as string])[event.changeId as string] ?? 0) > 0,
        ),
    );
    if (deployment.log.held.some((held) => held.instance === holder.name)) return appended;
  }
  throw new Error(`${holder.name} was never delivered an event in 20 appends`);
}

describe('CDC over a Redis stream, two service instances in separate processes', { timeout: 120_000 }, () => {
  describe('(a) both instances in ONE consumer group (they share L2 and the bus)', () => {
    it(`each event is applied once in total, and both instances miss within ${LIMIT_MS} ms`, async () => {
      const service = deployment('one-group', () => 'bff');
      const instances = await Promise.all([service.start('instance-1'), service.start('instance-2')]);
      const changeIds = await measure(instances, service, '(a) one group:');
      expectOncePerGroup(service.log, 'bff', changeIds);
      const split = instances.map(
        (instance) => `${instance.name} ${service.log.byProcess(instance.pid).length}`,
      );
      report('(a) one group: applications per instance', split.join(', '));
      expect(await pendingCount(server.url, service.stream, 'bff')).toBe(0);
    });

    it('an instance killed while holding an entry, restarted under its name, applies that entry; nothing twice', async () => {
      // Long claimIdle: the entry waits in the killed consumer's pending list for its restart.
      const service = deployment('one-group-restart', () => 'bff', { claimIdle: '60s' });
      const [first, second] = await Promise.all([service.start('instance-1'), service.start('instance-2')]);
      const before = [
        await appendAndWait(service, 'o1', ['bff']),
        await appendAndWait(service, 'o2', ['bff']),
      ];

      const held = await holdOne(service, second as Instance, ['bff']);
      const heldId = service.log.held.find((entry) => entry.instance === 'instance-2')?.changeId as string;
      await (second as Instance).kill();
      expect(await pendingByConsumer(server.url, service.stream, 'bff')).toEqual({ 'instance-2': 1 });
      const whileDown = [];
      for (let index = 0; index < 3; index++)
        whileDown.push(await appendAndWait(service, `down${index}`, ['bff']));
      expect(whileDown.map((id) => service.log.applier('bff', id))).toEqual(Array(3).fill('instance-1'));

      const restartedAt = now();
      const restarted = await service.start('instance-2');
      await waitFor('the held entry applied by the restarted instance', () =>
        service.log.byProcess(restarted.pid).includes(heldId),
      );
      report('(a) restart -> its pending entry applied', `${(now() - restartedAt).toFixed(0)} ms from fork`);
      const after = [
        await appendAndWait(service, 'later1', ['bff']),
        await appendAndWait(service, 'later2', ['bff']),
      ];

      // The restarted process applied its own pending entry and (maybe) later ones, nothing earlier.
      const byRestarted = service.log.byProcess(restarted.pid);
      expect(byRestarted[0]).toBe(heldId);
      expect(byRestarted.filter((id) => ![heldId, ...after].includes(id))).toEqual([]);
      expectOncePerGroup(service.log, 'bff', [...before, ...held, ...whileDown, ...after]);
      expect(await pendingCount(server.url, service.stream, 'bff')).toBe(0);
      expect((await (first as Instance).health()).source.claimed).toBe(0);
    });

    it('an entry held by a killed instance is claimed and applied by the live one after claimIdle', async () => {
      const service = deployment('one-group-claim', () => 'bff', { claimIdle: '1s', claimInterval: '200ms' });
      const [first, second] = await Promise.all([service.start('instance-1'), service.start('instance-2')]);
      const held = await holdOne(service, second as Instance, ['bff']);
      const heldId = service.log.held.find((entry) => entry.instance === 'instance-2')?.changeId as string;
      const killedAt = now();
      await (second as Instance).kill();
      await waitFor(
        'instance-1 claimed and applied the held entry',
        () => service.log.applier('bff', heldId) === 'instance-1',
        {
          timeoutMs: 10_000,
        },
      );
      report(
        '(a) kill -> held entry claimed and applied by the other instance',
        `${(now() - killedAt).toFixed(0)} ms (claimIdle 1 s)`,
      );
      expect((await (first as Instance).health()).source.claimed).toBe(1);

      const restarted = await service.start('instance-2');
      const after = [
        await appendAndWait(service, 'later1', ['bff']),
        await appendAndWait(service, 'later2', ['bff']),
      ];
      expect(service.log.byProcess(restarted.pid).filter((id) => !after.includes(id))).toEqual([]);
      expectOncePerGroup(service.log, 'bff', [...held, ...after]);
      expect(await pendingCount(server.url, service.stream, 'bff')).toBe(0);
    });
  });

  describe('(b) each instance in its OWN consumer group', () => {
    const groupOf = (instance: string) => `bff-${instance}`;
    const groups = [groupOf('instance-1'), groupOf('instance-2')];

    it(`every event is applied once per instance, and both instances miss within ${LIMIT_MS} ms`, async () => {
      const service = deployment('own-groups', groupOf);
      const instances = await Promise.all([service.start('instance-1'), service.start('instance-2')]);
      const changeIds = await measure(instances, service, '(b) own groups:');
      await waitFor('every event applied in both groups', () =>
        groups.every((group) =>
          Object.values(service.log.countsIn(group, changeIds)).every((count) => count >= 1),
        ),
      );
      for (const group of groups) expectOncePerGroup(service.log, group, changeIds);
    });

    it('killed and restarted, an instance applies exactly the events appended while it was down, once each', async () => {
      const service = deployment('own-groups-restart', groupOf);
      const [, second] = await Promise.all([service.start('instance-1'), service.start('instance-2')]);
      const before = [];
      for (let index = 0; index < 3; index++)
        before.push(await appendAndWait(service, `before${index}`, groups));
      // Everything acknowledged before the kill: otherwise re-applying it after a restart is correct.
      await waitFor(
        'instance-2 acknowledged all',
        async () => (await pendingCount(server.url, service.stream, groups[1] as string)) === 0,
      );
      await (second as Instance).kill();

      const whileDown = [];
      for (let index = 0; index < 4; index++)
        whileDown.push(await appendAndWait(service, `down${index}`, [groups[0] as string]));
      const restartedAt = now();
      const restarted = await service.start('instance-2');
      await waitFor(
        'the restarted instance caught up',
        () => service.log.byProcess(restarted.pid).length === whileDown.length,
      );
      report(
        '(b) restart -> the events appended while down applied',
        `${whileDown.length} events in ${(now() - restartedAt).toFixed(0)} ms from fork`,
      );
      const after = await appendAndWait(service, 'after', groups);

      expect(service.log.byProcess(restarted.pid)).toEqual([...whileDown, after]);
      for (const group of groups) expectOncePerGroup(service.log, group, [...before, ...whileDown, after]);
      // An event is logged when applied, before its XACK is sent: the count follows the reply.
      await waitFor(
        'the restarted instance acknowledged all',
        async () => (await restarted.health()).source.acked === whileDown.length + 1,
      );
      const health = await restarted.health();
      expect(health.source).toMatchObject({ status: 'up', acked: whileDown.length + 1, failSafes: 0 });
    });
  });
});
