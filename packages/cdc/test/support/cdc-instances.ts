import { fileURLToPath } from 'node:url';
import { measure } from '@org/cache-test-support';
import { ChildWorker, type ChildWorkerOptions, stopAllChildWorkers } from '@org/cache-testing/processes';
import type { RedisStreamSourceHealth } from '../../src/index.js';

/**
 * The parent side of workers/cdc-instance.mjs: service instances in child processes, each with a
 * tiered store (own L1, shared Redis L2 and bus) and an invalidator fed by a Redis stream source.
 * Every application an instance makes is reported here, so a test can count them per event
 * across processes, including processes that were killed since. Every wait is bounded;
 * `stopAllInstances()` kills by pid whatever is still running.
 */

const WORKER = fileURLToPath(new URL('../workers/cdc-instance.mjs', import.meta.url));

export interface InstanceConfig {
  name: string;
  url: string;
  prefix: string;
  channel: string;
  stream: string;
  group: string;
  consumer: string;
  claimIdle?: string | number;
  claimInterval?: string | number;
}

/** One event resolved by an instance's invalidator, as reported by the instance. */
export interface Application {
  instance: string;
  /** The process that applied it (a restarted instance has a new one). */
  pid: number;
  group: string;
  changeId: string;
  status: string;
  /** Epoch ms in the instance (comparable with {@link now}). */
  at: number;
}

/** Everything every instance reported, across restarts. */
export class ApplicationLog {
  readonly applications: Application[] = [];
  readonly held: Array<{ instance: string; changeId: string }> = [];

  listen(worker: ChildWorker): void {
    worker.onMessage((message) => {
      const event = message as { type?: string } & Application;
      if (event.type === 'applied') this.applications.push(event);
      if (event.type === 'held') this.held.push({ instance: event.instance, changeId: event.changeId });
    });
  }

  /** How many times each event was applied within `group` (by any instance of it). */
  countsIn(group: string, changeIds: readonly string[]): Record<string, number> {
    const counts = Object.fromEntries(changeIds.map((id) => [id, 0]));
    for (const applied of this.applications)
      if (applied.group === group && applied.changeId in counts)
        counts[applied.changeId] = (counts[applied.changeId] ?? 0) + 1;
    return counts;
  }

  /** The events the process `pid` applied, in order. */
  byProcess(pid: number): string[] {
    return this.applications.filter((applied) => applied.pid === pid).map((applied) => applied.changeId);
  }

  /** Which instance applied `changeId` within `group` (the first, if several did). */
  applier(group: string, changeId: string): string | undefined {
    return this.applications.find((applied) => applied.group === group && applied.changeId === changeId)
      ?.instance;
  }
}

export interface InstanceHealth {
  source: RedisStreamSourceHealth;
  counters: Record<string, number>;
  bus: boolean;
}

/** A service instance in a child process. */
export class Instance {
  private constructor(
    readonly config: InstanceConfig,
    private readonly worker: ChildWorker,
  ) {}

  /** Forks an instance and waits until its source listens and its bus is subscribed. */
  static async start(config: InstanceConfig, log: ApplicationLog): Promise<Instance> {
    const worker = await ChildWorker.start(childOptions(config));
    log.listen(worker);
    return new Instance(config, worker);
  }

  get name(): string {
    return this.config.name;
  }

  get pid(): number {
    return this.worker.pid;
  }

  set(key: string, value: unknown, tags: string[] = []): Promise<unknown> {
    return this.worker.request('set', { key, value, tags });
  }

  probe(key: string): Promise<{ value: unknown; l1Hit: boolean }> {
    return this.worker.request('probe', { key });
  }

  /** Starts polling `keys` (every ms) until each has missed; `misses()` collects when. */
  watchMisses(keys: string[], timeoutMs = 3_000): Promise<{ started: number }> {
    return this.worker.request('watchMisses', { keys, timeoutMs });
  }

  misses(): Promise<{ seenAt: Record<string, number>; polls: number }> {
    return this.worker.request('misses', {}, 10_000);
  }

  /** While on, the instance keeps the events it is delivered: never applied, never acknowledged. */
  hold(on: boolean): Promise<unknown> {
    return this.worker.request('hold', { on });
  }

  health(): Promise<InstanceHealth> {
    return this.worker.request('health');
  }

  /** SIGKILL: no cleanup, no acknowledgement of what it held. */
  kill(): Promise<void> {
    return this.worker.kill('SIGKILL');
  }
}

function childOptions(config: InstanceConfig): ChildWorkerOptions {
  return {
    script: WORKER,
    name: `instance ${config.name}`,
    env: { CDC_WORKER_CONFIG: JSON.stringify(config) },
    serialization: 'advanced',
  };
}

export const stopAllInstances = stopAllChildWorkers;

/** Epoch ms with sub-ms precision, comparable with the instances' timestamps. */
export const now = () => performance.timeOrigin + performance.now();
export { sleep } from '@org/cache-test-support';

/** Prints one measured figure so a run's log can be quoted. */
export function report(label: string, value: string): void {
  measure(`[cdc multi-process] ${label}: ${value}`);
}
