import type { RedisClusterType } from '@keyv/redis';
import { CacheError } from '@org/cache-core';
import { Backoff } from '@org/cache-core/adapter';
import type { RedisConnection } from '../connection.js';
import { indexesBySlot, keySlot } from '../key-slot.js';
import { FirstUp } from './first-up.js';
import type { TrackedConnection } from './tracked-connection.js';
import {
  emptyTrackingStats,
  TrackedNode,
  type TrackedRead,
  type TrackingListener,
  trackingClientOptions,
} from './tracked-node.js';

const SLOTS = 16_384;

interface Master {
  id: string;
  host: string;
  port: number;
}

/** A slot map as CLUSTER SLOTS gives it: which master serves which slots. */
interface SlotMap {
  ranges: Array<{ start: number; end: number; master: Master }>;
  /** Who owns what, by node id: two views agree when their signatures are equal. */
  signature: string;
}

/**
 * Client tracking on a Redis Cluster: one {@link TrackedNode} (a RESP3 connection with tracking
 * on) per master, each read sent to the tracked connection of the master that owns the key's
 * slot. A key lives on one master, so its reply and its invalidation come from that master on one
 * socket, in order: the standalone argument (see `TrackedNode`) holds per master. Invalidations
 * and flushes from every master go to the one listener.
 *
 * `up` only while every master of the current slot map has tracking on AND every one of them,
 * asked on its own tracked connection (CLUSTER SLOTS), agrees with the map the reads are routed
 * by. Anything that may move a key to a connection that does not track it reports
 * `state(false)` first: a master's connection lost (drop, kill, stall), a MOVED / ASK /
 * CLUSTERDOWN / TRYAGAIN reply to a tracked read, a master whose view of the slot map differs
 * (a resharding finished, a failover, a master added with slots or removed), checked every
 * `topologyCheck`. Then the map is read again, connections opened to new masters and closed to
 * old ones, and `state(true)` only once all agree again.
 *
 * Why a read cannot return a value that will never be invalidated, even before a change is
 * noticed: a master only answers a key read for a slot it owns (any other node answers
 * MOVED/ASK, which fails the read and is not kept); a key that leaves by MIGRATE (resharding) is
 * deleted on its old master, which pushes its invalidation there; a demoted master (failover)
 * stops answering reads with MOVED. What is not covered: a master that is cut off but still
 * answers while a replica is promoted is noticed by its heartbeat within `stallTimeout` (2 s),
 * so `cluster-node-timeout` (which a failover waits for) must be longer than that.
 */
export class TrackedCluster implements TrackedConnection {
  readonly stats = emptyTrackingStats();
  /** The tracked connection per master of the current map, by `id@host:port`. */
  #nodes = new Map<string, TrackedNode>();
  /** The tracked connection each slot's reads go to; `undefined`: no master serves it. */
  #routes = new Array<TrackedNode | undefined>(SLOTS);
  #map: SlotMap | undefined;
  /** The map must be read again before going up. */
  #stale = true;
  /** Bumped by everything that can make a check in flight outdated (a loss, a topology change). */
  #epoch = 0;
  #up = false;
  #closed = false;
  #refused: CacheError | undefined;
  #checking = false;
  #checkAgain = false;
  #retry: NodeJS.Timeout | undefined;
  readonly #periodic: NodeJS.Timeout;
  /** Delays between checks after a failed or disagreeing one; reset once a check passes while up. */
  readonly #backoff = new Backoff({ initialMs: 50, maxMs: 1_000 });
  readonly #firstUp = new FirstUp();

  constructor(
    private readonly source: RedisConnection,
    private readonly listener: TrackingListener,
    private readonly timing: { stallMs: number; heartbeatMs: number; topologyCheckMs: number },
  ) {
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
    const slot = keySlot(key);
    const node = this.#routes[slot];
    if (node === undefined) return Promise.reject(unrouted(slot));
    return node.read(key).catch((error: unknown) => this.#failed(error));
  }

  /** One MGET per slot (a cluster refuses MGET across slots), sent to each slot's master; results in `keys` order. */
  async readMany(keys: string[]): Promise<TrackedRead[]> {
    const result = new Array<TrackedRead>(keys.length);
    await Promise.all(
      [...indexesBySlot(keys)].map(async ([slot, indexes]) => {
        const node = this.#routes[slot];
        if (node === undefined) throw unrouted(slot);
        const reads = await node
          .readMany(indexes.map((index) => keys[index] as string))
          .catch((error: unknown) => this.#failed(error));
        indexes.forEach((index, position) => {
          result[index] = reads[position] as TrackedRead;
        });
      }),
    );
    return result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#periodic);
    clearTimeout(this.#retry);
    this.#setUp(false);
    this.#firstUp.settle(new CacheError('E_CLOSED', 'redis tracking: closed before tracking was on'));
    const nodes = [...this.#nodes.values()];
    this.#nodes.clear();
    this.#routes = new Array<TrackedNode | undefined>(SLOTS);
    await Promise.all(nodes.map((node) => node.close()));
  }

  /**
   * Reads the slot map when it is stale, then asks every master, on its tracked connection, for
   * its own view: `up` once all are connected and agree with the map. Single-flight; a request
   * made while one runs runs after it.
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
      if (this.#stale || this.#map === undefined) this.#install(await this.#fetchMap());
      const map = this.#map as SlotMap;
      const nodes = [...this.#nodes.values()];
      // Not all connected: each master's 'ready' runs a check again.
      if (this.#closed || !nodes.every((node) => node.up)) return;
      const views = await Promise.all(nodes.map((node) => node.command<unknown>(['CLUSTER', 'SLOTS'])));
      if (this.#closed) return;
      if (views.some((view) => parseSlots(view).signature !== map.signature)) {
        // A master sees another map: a change in progress, or ours is outdated. Read it again.
        this.#topologyChanged();
        return;
      }
      if (epoch !== this.#epoch || this.#stale) {
        this.#checkAgain = true;
        return;
      }
      if (this.#up) this.#backoff.reset();
      this.#setUp(true);
    } catch {
      // The map could not be read, or a master did not answer: not up until a check passes.
      if (!this.#closed) this.#topologyChanged(false);
    } finally {
      this.#checking = false;
      if (this.#checkAgain && !this.#closed) {
        this.#checkAgain = false;
        void this.#check();
      }
    }
  }

  /** From a master we track (its view is as good as any), else through the store's cluster client. */
  async #fetchMap(): Promise<SlotMap> {
    for (const node of this.#nodes.values()) {
      if (!node.up) continue;
      try {
        return parseSlots(await node.command<unknown>(['CLUSTER', 'SLOTS']));
      } catch {
        // try the next one
      }
    }
    return parseSlots(await this.source.command<unknown>(['CLUSTER', 'SLOTS']));
  }

  /** Routes by `map`: keeps the connections to masters still in it, opens new ones, closes the rest. */
  #install(map: SlotMap): void {
    if (this.#closed) return;
    const nodes = new Map<string, TrackedNode>();
    const routes = new Array<TrackedNode | undefined>(SLOTS);
    for (const { start, end, master } of map.ranges) {
      const key = `${master.id}@${master.host}:${master.port}`;
      let node = nodes.get(key) ?? this.#nodes.get(key);
      if (node === undefined) node = this.#open(master, key);
      nodes.set(key, node);
      for (let slot = start; slot <= end && slot < SLOTS; slot++) routes[slot] = node;
    }
    const retired = [...this.#nodes].filter(([key]) => !nodes.has(key));
    this.#nodes = nodes;
    this.#routes = routes;
    this.#map = map;
    this.#stale = false;
    for (const [, node] of retired) void node.close();
  }

  #open(master: Master, key: string): TrackedNode {
    const defaults = (this.source.client as RedisClusterType)._options.defaults;
    const node: TrackedNode = new TrackedNode(
      () => this.source.clusterNodeClient(master.host, master.port, trackingClientOptions(defaults)),
      {
        invalidate: (keys) => this.listener.invalidate(keys),
        flushed: () => this.listener.flushed(),
        state: (up) => {
          if (this.#nodes.get(key) !== node) return; // a master no longer in the map
          if (up) {
            void this.#check();
            return;
          }
          this.#epoch++;
          this.#setUp(false);
        },
        refused: (error) => this.#refuse(error),
      },
      this.timing,
      this.stats,
    );
    return node;
  }

  /** A tracked read failed: a redirection means the slot map changed under us. The read fails either way. */
  #failed(error: unknown): never {
    if (isTopologyError(error)) this.#topologyChanged();
    throw error;
  }

  /**
   * `state(false)` now; the map is read again and checked (after a back-off: a resharding in
   * progress keeps redirecting reads). `counted`: a change seen (not a check that failed).
   */
  #topologyChanged(counted = true): void {
    if (this.#closed || this.#refused !== undefined) return;
    if (counted && !this.#stale) this.stats.topologyChanges++;
    this.#stale = true;
    this.#epoch++;
    this.#setUp(false);
    if (this.#retry !== undefined) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#check();
    }, this.#backoff.next());
    this.#retry.unref();
  }

  #refuse(error: CacheError): void {
    if (this.#refused !== undefined) return;
    this.#refused = error;
    this.#firstUp.settle(error);
    this.#setUp(false);
    clearInterval(this.#periodic);
    clearTimeout(this.#retry);
    for (const node of this.#nodes.values()) void node.close();
  }

  #setUp(up: boolean): void {
    if (up && (this.#closed || this.#refused !== undefined)) return;
    if (this.#up === up) return;
    this.#up = up;
    this.listener.state(up);
    if (up) this.#firstUp.settle();
  }
}

function unrouted(slot: number): CacheError {
  return new CacheError(
    'E_STORE_UNAVAILABLE',
    `redis tracking: no tracked connection serves slot ${slot} (the cluster's slot map is changing)`,
  );
}

/** Replies that mean the key is not (or not only) on the master it was sent to. */
function isTopologyError(error: unknown): boolean {
  return /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b/.test(String((error as Error)?.message ?? ''));
}

/** CLUSTER SLOTS: `[[start, end, [host, port, id, ...], ...replicas], ...]`. */
function parseSlots(reply: unknown): SlotMap {
  if (!Array.isArray(reply)) throw new Error(`redis tracking: CLUSTER SLOTS answered ${typeof reply}`);
  const ranges = reply.map((entry) => {
    const [start, end, node] = entry as [unknown, unknown, unknown[]];
    const [host, port, id] = node;
    return {
      start: Number(start),
      end: Number(end),
      master: { host: String(host), port: Number(port), id: String(id) },
    };
  });
  ranges.sort((a, b) => a.start - b.start);
  return {
    ranges,
    signature: ranges.map(({ start, end, master }) => `${start}-${end}=${master.id}`).join(','),
  };
}
