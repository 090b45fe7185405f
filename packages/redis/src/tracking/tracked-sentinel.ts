import {
  createClient,
  type RedisClientOptions,
  type RedisClientType,
  type RedisSentinelType,
} from '@keyv/redis';
import { CacheError } from '@org/cache-core';
import type { RedisConnection } from '../connection.js';
import { FirstUp } from './first-up.js';
import type { TrackedConnection } from './tracked-connection.js';
import {
  emptyTrackingStats,
  TrackedNode,
  type TrackedNodeListener,
  type TrackedRead,
  type TrackingListener,
  trackingClientOptions,
} from './tracked-node.js';

interface NodeAddress {
  host: string;
  port: number;
}

/**
 * Client tracking behind Redis Sentinel: one {@link TrackedNode} on the master the store's
 * Sentinel client writes to, replaced when that client follows a failover. Reads go through it,
 * so the standalone argument of `TrackedNode` (a reply and the invalidation that follows it come
 * in order, on one socket) holds for as long as that node is the master.
 *
 * What a failover changes: writes move to the promoted replica, and the old master, once Sentinel
 * demotes it, keeps answering reads on the connection already open to it (no MOVED, unlike a
 * cluster) while the writes that would invalidate them go elsewhere. So `up` only while the
 * tracked node is the address the Sentinel client names as master AND that node itself answers
 * `ROLE` with `master`, asked on the tracked connection before every return to `up` and every
 * `topologyCheck`. The Sentinel client's `MASTER_CHANGE` (emitted as it switches the store's
 * writes to the new master, before any of this process's writes go there) reports `state(false)`
 * at once; the tracked connection then moves to the new master. Sentinel also kills the demoted
 * master's client connections, which the node reports as a loss.
 *
 * What is not covered, as with Redis itself: another process that follows the failover sooner may
 * write to the new master while this one still trusts the old one, until the `MASTER_CHANGE`,
 * the demotion's disconnect or the next check (`topologyCheck`, 1 s) here. Writes the old master
 * accepted during the switch are discarded by Redis anyway (asynchronous replication).
 */
export class TrackedSentinel implements TrackedConnection {
  readonly stats = emptyTrackingStats();
  #node: TrackedNode | undefined;
  /** `host:port` of #node. */
  #address: string | undefined;
  /** Bumped whenever tracking goes down: a role check started before it no longer counts. */
  #epoch = 0;
  #up = false;
  #closed = false;
  #refused: CacheError | undefined;
  #checking = false;
  #checkAgain = false;
  readonly #periodic: NodeJS.Timeout;
  readonly #firstUp = new FirstUp();
  readonly #sentinel: RedisSentinelType;
  readonly #nodeOptions: RedisClientOptions;

  constructor(
    source: RedisConnection,
    private readonly listener: TrackingListener,
    private readonly timing: { stallMs: number; heartbeatMs: number; topologyCheckMs: number },
  ) {
    this.#nodeOptions = source.sentinelNodeOptions();
    this.#sentinel = source.client as RedisSentinelType;
    this.#sentinel.on('topology-change', this.#onTopologyChange);
    this.#periodic = setInterval(() => void this.#check(), timing.topologyCheckMs);
    this.#periodic.unref();
    void this.#check();
  }

  get up(): boolean {
    return this.#up;
  }

  get refused(): CacheError | undefined {
    return this.#refused;
  }

  ready(): Promise<void> {
    return this.#firstUp.promise;
  }

  read(key: string): Promise<TrackedRead> {
    const node = this.#node;
    return node === undefined ? Promise.reject(noMaster()) : node.read(key);
  }

  readMany(keys: string[]): Promise<TrackedRead[]> {
    const node = this.#node;
    return node === undefined ? Promise.reject(noMaster()) : node.readMany(keys);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#periodic);
    this.#sentinel.off('topology-change', this.#onTopologyChange);
    this.#setUp(false);
    this.#firstUp.settle(new CacheError('E_CLOSED', 'redis tracking: closed before tracking was on'));
    const node = this.#node;
    this.#node = undefined;
    await node?.close();
  }

  readonly #onTopologyChange = (event: { type: string }): void => {
    if (event.type !== 'MASTER_CHANGE') return;
    this.#setUp(false);
    void this.#check();
  };

  /**
   * Follows the Sentinel client's master, then asks the tracked node its role: `up` once it is
   * connected and says `master`. Single-flight; a request made while one runs runs after it.
   */
  async #check(): Promise<void> {
    if (this.#closed || this.#refused !== undefined) return;
    if (this.#checking) {
      this.#checkAgain = true;
      return;
    }
    this.#checking = true;
    const epoch = this.#epoch;
    try {
      const master = this.#sentinel.getMasterNode() as NodeAddress | undefined;
      // No master yet (the store's client is still connecting, or following a failover): its
      // MASTER_CHANGE, or the next periodic check, comes back here.
      if (master === undefined) return this.#setUp(false);
      const address = `${master.host}:${master.port}`;
      if (address !== this.#address) return this.#follow(master, address);
      const node = this.#node as TrackedNode;
      // Not connected yet: the node's own 'ready' runs a check again.
      if (!node.up) return;
      const role = await node.command<unknown[]>(['ROLE']);
      if (this.#closed || node !== this.#node) return;
      if (role[0] !== 'master') {
        // Demoted, and the Sentinel client has not switched yet: read around L1 until it does.
        this.#setUp(false);
        return;
      }
      if (epoch !== this.#epoch) {
        this.#checkAgain = true;
        return;
      }
      this.#setUp(true);
    } catch {
      // The role could not be read: not up until a check passes.
      this.#setUp(false);
    } finally {
      this.#checking = false;
      if (this.#checkAgain && !this.#closed) {
        this.#checkAgain = false;
        void this.#check();
      }
    }
  }

  /** Moves the tracked connection to `master`: down first, then a new node, up once it is checked. */
  #follow(master: NodeAddress, address: string): void {
    this.#setUp(false);
    if (this.#address !== undefined) this.stats.topologyChanges++;
    const previous = this.#node;
    this.#address = address;
    // Events only come once the node is connecting, after `owner.node` is set below.
    const owner: { node?: TrackedNode } = {};
    const node = new TrackedNode(
      () =>
        createClient({
          ...this.#nodeOptions,
          socket: { ...this.#nodeOptions.socket, host: master.host, port: master.port },
          ...trackingClientOptions(this.#nodeOptions),
        }) as unknown as RedisClientType,
      this.#nodeListener(owner),
      this.timing,
      this.stats,
    );
    owner.node = node;
    this.#node = node;
    void previous?.close();
  }

  /** What one node reports, passed on while it is the current one (a replaced node's are dropped). */
  #nodeListener(owner: { node?: TrackedNode }): TrackedNodeListener {
    const current = () => owner.node !== undefined && owner.node === this.#node;
    return {
      invalidate: (keys) => {
        if (current()) this.listener.invalidate(keys);
      },
      flushed: () => {
        if (current()) this.listener.flushed();
      },
      state: (up) => {
        if (!current()) return;
        if (!up) this.#setUp(false);
        else void this.#check();
      },
      refused: (error) => {
        if (!current()) return;
        this.#refused = error;
        this.#setUp(false);
        this.#firstUp.settle(error);
      },
    };
  }

  #setUp(up: boolean): void {
    if (up && (this.#closed || this.#refused !== undefined)) return;
    if (!up) this.#epoch++;
    if (this.#up === up) return;
    this.#up = up;
    if (up) this.#firstUp.settle();
    this.listener.state(up);
  }
}

function noMaster(): CacheError {
  return new CacheError('E_STORE_UNAVAILABLE', 'redis tracking: no Sentinel master known yet');
}
