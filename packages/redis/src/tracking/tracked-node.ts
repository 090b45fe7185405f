import type { RedisClientType } from '@keyv/redis';
import { CacheError } from '@org/cache-core';
import { FOREIGN_TYPE } from '../foreign-type.js';
import { FirstUp } from './first-up.js';

/** A value read through the tracked connection, with its remaining life in Redis. */
export interface TrackedRead {
  value: unknown;
  /** PTTL in ms; `undefined` when the key has no expiry or is absent. */
  ttlMs: number | undefined;
}

/** What a tracked connection tells its owner. Called synchronously, in the order Redis sent things. */
export interface TrackingListener {
  /** These keys changed in Redis (anyone's write, expiry or eviction): drop their copies. */
  invalidate(keys: string[]): void;
  /** Redis was flushed (a `null` invalidation): every copy may be wrong. Tracking is still on. */
  flushed(): void;
  /**
   * `false`: invalidations may be lost from now on (the connection dropped, stalled, or was
   * refused; on a cluster also: the slot map changed): drop every copy and read around them.
   * `true`: tracking is on again (on a cluster: on every master of the current slot map); reads
   * made from now on are tracked.
   */
  state(up: boolean): void;
}

/** What a node tells the cluster coordinator on top of a {@link TrackingListener}. */
export interface TrackedNodeListener extends TrackingListener {
  /** Redis refused tracking on this node for good (see `TrackedNode.refused`). */
  refused?(error: CacheError): void;
}

/** Counters of a client-tracking connection ({@link TrackedConnection.stats}; `store.tagTracking.stats` adds its token counts). */
export interface TrackingStats {
  /** Keys Redis said changed. */
  invalidations: number;
  /** `null` invalidations (FLUSHALL, FLUSHDB; on a cluster, from any master). */
  flushes: number;
  /** Times tracking was lost on a connection (drop, kill, restart, stall); on a cluster, counted per master. */
  losses: number;
  /** Connections replaced because a PING went unanswered. */
  stalls: number;
  /** Cluster only: times the slot map was found changed (MOVED/ASK, resharding, failover); 0 otherwise. */
  topologyChanges: number;
}

export function emptyTrackingStats(): TrackingStats {
  return { invalidations: 0, flushes: 0, losses: 0, stalls: 0, topologyChanges: 0 };
}

/** RESP3 with invalidation pushes, and its own name so an operator (or a test) can tell it from the store's connection. */
export function trackingClientOptions(base: { name?: string } | undefined): {
  RESP: 3;
  emitInvalidate: true;
  name?: string;
} {
  const name = base?.name;
  return { RESP: 3, emitInvalidate: true, ...(name === undefined ? {} : { name: `${name}:tracking` }) };
}

/**
 * One dedicated RESP3 connection to one Redis server (a standalone server, or one master of a
 * cluster) with `CLIENT TRACKING ON` (default mode): Redis remembers the keys read through it and
 * pushes an `invalidate` message on it when any of them changes, whoever changes it (this SDK on
 * another machine, another service, `redis-cli`), then forgets the key until it is read again.
 * node-redis v5 sends `CLIENT TRACKING ON` in its connection handshake (`emitInvalidate`), on
 * every reconnection too, before it reports 'ready'.
 *
 * Why the reads that fill a copy must go through this very connection (and not through another
 * connection with `REDIRECT` to this one): Redis executes one command at a time and writes a
 * client's replies and pushes to its socket in the order it produced them. A `GET` on this
 * connection registers the key and replies; a write to the key after that `GET` produces the
 * invalidation after that reply, on the same socket. So the reply is always read before the
 * invalidation that follows it: whoever starts a fill guard before sending the read and checks it
 * after the reply either sees the invalidation first (the guard was tripped by the push handler,
 * which runs synchronously while the decoder parses the chunk, before the reply's promise
 * callbacks) or keeps the copy and then has it dropped by the push. With `REDIRECT`, the reply and
 * the invalidation travel on two sockets with no order between them, and a redirect target that
 * drops silently loses invalidations without the reading connection knowing (RESP2 has no way to
 * tell it): one connection removes both problems. On a cluster the same holds per master: a key
 * lives on one master, so its reply and its invalidation come from that master, on one socket.
 *
 * A lost connection loses the invalidations sent meanwhile, and a new connection tracks nothing
 * until keys are read again: so every loss is reported (`state(false)`) before anything else can
 * be read, and `state(true)` only once the new connection has tracking on.
 */
export class TrackedNode {
  #client: RedisClientType;
  #up = false;
  #closed = false;
  /** Set when Redis refuses tracking (ACL without `+client|tracking`, no RESP3): permanent. */
  #refused: CacheError | undefined;
  readonly #firstUp = new FirstUp();
  readonly #heartbeat: NodeJS.Timeout;
  /** When the PING in flight was sent; `undefined` when none is. */
  #pingSentAt: number | undefined;

  /**
   * @param open a new, unconnected RESP3 client with `emitInvalidate` on, to this node (called
   *   again to replace a stalled connection)
   */
  constructor(
    private readonly open: () => RedisClientType,
    private readonly listener: TrackedNodeListener,
    private readonly timing: { stallMs: number; heartbeatMs: number },
    readonly stats: TrackingStats = emptyTrackingStats(),
  ) {
    this.#client = this.#connect();
    this.#heartbeat = setInterval(() => this.#checkHeartbeat(), timing.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Tracking is on: what is read now will be invalidated. */
  get up(): boolean {
    return this.#up;
  }

  /** Resolves once tracking is first on; rejects with `E_INVALID_OPTION` when Redis refuses it. */
  ready(): Promise<void> {
    return this.#firstUp.promise;
  }

  /** GET and PTTL, pipelined: the GET registers the key for invalidation. */
  read(key: string): Promise<TrackedRead> {
    const client = this.#client;
    return Promise.all([
      client.sendCommand(['GET', key]) as Promise<string | null>,
      client.sendCommand(['PTTL', key]) as Promise<number>,
    ]).then(
      ([value, ttl]) => ({ value: value ?? undefined, ttlMs: ttl >= 0 ? ttl : undefined }),
      (error: unknown) => foreignOrThrow(error),
    );
  }

  /** MGET and a PTTL per key, pipelined: the MGET registers every key. On a cluster: one slot's keys. */
  readMany(keys: string[]): Promise<TrackedRead[]> {
    const client = this.#client;
    return Promise.all([
      client.sendCommand(['MGET', ...keys]) as Promise<Array<string | null>>,
      Promise.all(keys.map((key) => client.sendCommand(['PTTL', key]) as Promise<number>)),
    ]).then(([values, ttls]) =>
      values.map((value, index) => {
        const ttl = ttls[index] as number;
        return { value: value ?? undefined, ttlMs: ttl >= 0 ? ttl : undefined };
      }),
    );
  }

  /** Any other command on this connection (the cluster coordinator's CLUSTER SLOTS). */
  command<T>(args: string[]): Promise<T> {
    return this.#client.sendCommand(args) as Promise<T>;
  }

  /** Stops tracking and closes the dedicated connection. Not counted as a loss. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#setUp(false);
    this.#firstUp.settle(new CacheError('E_CLOSED', 'redis tracking: closed before tracking was on'));
    this.#destroy(this.#client);
  }

  /** The error that stopped tracking for good, if any. */
  get refused(): CacheError | undefined {
    return this.#refused;
  }

  #connect(): RedisClientType {
    const client = this.open();
    client.on('invalidate', (key: Buffer | string | null) => this.#invalidated(client, key));
    client.on('ready', () => {
      if (client !== this.#client) return;
      this.#pingSentAt = undefined;
      this.#setUp(true);
      this.#firstUp.settle();
    });
    client.on('error', (error: unknown) => {
      if (client !== this.#client) return;
      this.#setUp(false);
      if (isRefusal(error)) this.#refuse(error);
    });
    client.on('end', () => client === this.#client && this.#setUp(false));
    client.on('reconnecting', () => client === this.#client && this.#setUp(false));
    void client.connect().catch(() => {
      // Reported through 'error'; node-redis keeps reconnecting with the store's back-off.
    });
    return client;
  }

  #invalidated(client: RedisClientType, key: Buffer | string | null): void {
    if (client !== this.#client || this.#closed) return;
    if (key === null) {
      this.stats.flushes++;
      this.listener.flushed();
      return;
    }
    this.stats.invalidations++;
    this.listener.invalidate([typeof key === 'string' ? key : key.toString()]);
  }

  #setUp(up: boolean): void {
    if (up && (this.#closed || this.#refused !== undefined)) return;
    if (this.#up === up) return;
    this.#up = up;
    if (!up && !this.#closed) this.stats.losses++;
    this.listener.state(up);
  }

  /** Tracking will never work with these credentials or this server: say so once and stop trying. */
  #refuse(error: unknown): void {
    this.#refused = new CacheError(
      'E_INVALID_OPTION',
      `redis tracking: Redis refused client tracking (${(error as Error).message}). It needs Redis 6+ with RESP3 and, with ACLs, a user allowed +client|tracking (and +hello); or use coherence: 'bus'`,
    );
    this.#firstUp.settle(this.#refused);
    clearInterval(this.#heartbeat);
    this.#destroy(this.#client);
    this.listener.refused?.(this.#refused);
  }

  /**
   * A connection that looks open but answers nothing (half-open TCP, a paused server) would keep
   * us trusting L1 while invalidations are lost: an unanswered PING past the stall timeout counts
   * as a loss, and the connection is replaced.
   */
  #checkHeartbeat(): void {
    if (this.#closed || this.#refused !== undefined || !this.#up) return;
    const sentAt = this.#pingSentAt;
    if (sentAt !== undefined) {
      if (performance.now() - sentAt > this.timing.stallMs) this.#replaceStalled();
      return;
    }
    const client = this.#client;
    this.#pingSentAt = performance.now();
    (client.sendCommand(['PING']) as Promise<unknown>).then(
      () => {
        if (client === this.#client) this.#pingSentAt = undefined;
      },
      () => {
        // A failing connection reports itself through 'error'.
        if (client === this.#client) this.#pingSentAt = undefined;
      },
    );
  }

  #replaceStalled(): void {
    this.stats.stalls++;
    this.#setUp(false);
    const stalled = this.#client;
    this.#pingSentAt = undefined;
    this.#client = this.#connect();
    this.#destroy(stalled);
  }

  #destroy(client: RedisClientType): void {
    client.on('error', () => {}); // destroying may still emit
    try {
      client.destroy();
    } catch {
      // already closed
    }
  }
}

/**
 * Errors that no reconnection will cure: an ACL user without `client|tracking` or `hello`
 * (NOPERM), or a server without RESP3 / tracking (Redis < 6: unknown command).
 */
function isRefusal(error: unknown): boolean {
  const message = String((error as Error)?.message ?? '');
  if (message.startsWith('NOPERM')) return true;
  return /unknown (sub)?command/i.test(message) && /hello|tracking/i.test(message);
}

function foreignOrThrow(error: unknown): TrackedRead {
  // Another program put a non-string where an entry belongs: bad data, not a failing Redis (as
  // the store's own get answers it: something core counts as a corrupt entry).
  if (String((error as Error)?.message).startsWith('WRONGTYPE'))
    return { value: FOREIGN_TYPE, ttlMs: undefined };
  throw error;
}
