import {
  createClient,
  createCluster,
  createSentinel,
  type RedisClientOptions,
  type RedisClientType,
  type RedisClusterOptions,
  type RedisClusterType,
  type RedisSentinelType,
} from '@keyv/redis';
import { CacheError, type Duration } from '@org/cache-core';
import { backoffDelay, parseTimeout, settleWithin } from '@org/cache-core/adapter';
import { keySlot } from './key-slot.js';
import { slotTag } from './lease-keys.js';
import { StallDetector } from './stall-detector.js';

/** node-redis's `createSentinel` options. */
export type SentinelOptions = Parameters<typeof createSentinel>[0];
/** A node-redis client of any kind: standalone, Cluster or Sentinel. */
export type AnyRedis = RedisClientType | RedisClusterType | RedisSentinelType;

/**
 * Where Redis is: exactly one of `url`, `client`, `cluster` or `sentinel`. There is no default
 * (an unset `REDIS_URL` must not quietly become a connection to localhost).
 */
export type RedisTarget =
  | {
      /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
      url: string;
      client?: never;
      cluster?: never;
      sentinel?: never;
    }
  | {
      /** A client you built (standalone, cluster or sentinel). It is left open when the cache closes: you close it. */
      client: AnyRedis;
      url?: never;
      cluster?: never;
      sentinel?: never;
    }
  | {
      /** A Redis Cluster: `{ rootNodes: [{ url }], defaults?: { password, socket: { tls } } }`. */
      cluster: RedisClusterOptions;
      url?: never;
      client?: never;
      sentinel?: never;
    }
  | {
      /** Redis Sentinel: `{ name, sentinelRootNodes: [{ host, port }], nodeClientOptions? }`. */
      sentinel: SentinelOptions;
      url?: never;
      client?: never;
      cluster?: never;
    };

/** How connections opened from a `url`, `cluster` or `sentinel` behave. */
export interface RedisConnectionSettings {
  /** ACL user and password, when not in the URL. */
  username?: string;
  password?: string;
  /** TLS options (certificates, servername); `rediss://` turns TLS on by itself. */
  tls?: Record<string, unknown>;
  /** How long one connection attempt may take. Default 1 s. */
  connectTimeout?: Duration;
  /** Upper bound of the reconnect back-off. Default 2 s. */
  maxReconnectDelay?: Duration;
  /**
   * A connection whose commands go unanswered this long while it looks connected (half-open TCP)
   * is replaced by a new one. Default 2 s. Applies to connections the store opened itself, not
   * to a cluster (node-redis manages a cluster's node connections) nor to a borrowed client.
   */
  stallTimeout?: Duration;
  /** Extra node-redis client options, merged last (escape hatch). */
  clientOptions?: Partial<RedisClientOptions>;
}

/** A {@link RedisTarget} and its {@link RedisConnectionSettings}. */
export type RedisConnectionOptions = RedisTarget & RedisConnectionSettings;

/** The topology of a {@link RedisConnection}, from its options: `url`, `cluster` or `sentinel` (or the borrowed `client`'s kind). */
export type RedisMode = 'standalone' | 'cluster' | 'sentinel';
/**
 * Sends one raw command (`['SCAN', '0']`) to one node and resolves to its reply; what
 * {@link RedisConnection.masters} hands out, one per master.
 */
export type NodeCommand = <T>(args: string[]) => Promise<T>;

/**
 * One Redis connection as the adapter and the bus use it, whatever the topology. Hardened by
 * default: commands fail fast while disconnected instead of queueing (node-redis queues forever
 * by default), connection attempts time out, reconnects back off, and 'error' events are always
 * listened to (an unhandled one would crash the process) and counted.
 */
export class RedisConnection {
  readonly mode: RedisMode;
  #client: AnyRedis;
  /** Half-open detection; only for standalone connections we own (see `stallTimeout`). */
  readonly #stall: StallDetector | undefined;
  /** How many times a stalled connection was replaced. */
  replacements = 0;
  /** True when the client was given to us: we never close it. */
  readonly borrowed: boolean;
  errors = 0;
  lastError: unknown;
  #closing: Promise<void> | undefined;
  /** What this connection was opened with: duplicate() opens the next one alike. */
  readonly #options: RedisConnectionOptions;
  readonly #stallMs: number;
  /**
   * Settles when the first connection attempt is decided: connected, or its first error (the
   * client's own `connect()` promise keeps retrying and may never settle). Then `undefined`.
   */
  #firstAttempt: Promise<void> | undefined;
  #decideFirstAttempt: () => void = () => {};
  readonly #onError = (error: unknown) => {
    this.errors++;
    this.lastError = error;
    // The first attempt failed: from now on commands fail fast until Redis is back.
    this.#firstAttempt = undefined;
    this.#decideFirstAttempt();
  };

  constructor(options: RedisConnectionOptions) {
    assertConnectionOptions(options);
    this.#options = options;
    this.#stallMs = parseTimeout(options.stallTimeout ?? '2s', 'stallTimeout');
    // A client duplicate() made is this connection's own, although it comes in as `client`.
    this.borrowed = options.client !== undefined && !ownDuplicates.delete(options.client);
    if (options.client !== undefined) {
      this.#client = options.client;
      this.mode = modeOf(options.client);
    } else if (options.cluster !== undefined) {
      this.mode = 'cluster';
      this.#client = createCluster({
        ...options.cluster,
        defaults: { ...hardenedClientOptions(options), ...options.cluster.defaults },
      }) as unknown as AnyRedis;
    } else if (options.sentinel !== undefined) {
      this.mode = 'sentinel';
      this.#client = createSentinel({
        ...options.sentinel,
        nodeClientOptions: { ...hardenedClientOptions(options), ...options.sentinel.nodeClientOptions },
      } as SentinelOptions) as unknown as AnyRedis;
    } else {
      this.mode = 'standalone';
      this.#client = createClient({
        url: options.url,
        ...hardenedClientOptions(options),
      }) as unknown as AnyRedis;
    }
    this.#client.on('error', this.#onError);
    this.#stall = this.mode === 'standalone' && !this.borrowed ? new StallDetector(this.#stallMs) : undefined;
    if (!this.borrowed) {
      // Connects in the background and keeps retrying: a Redis that is down at start-up must not
      // stop the service from starting. Commands sent during the first attempt wait for it (core's
      // deadline still bounds them); once it fails, they fail fast (offline queue disabled).
      this.#firstAttempt = new Promise<void>((resolve) => {
        this.#decideFirstAttempt = resolve;
      });
      (this.client.connect() as Promise<unknown>).then(() => {
        this.#firstAttempt = undefined;
        this.#decideFirstAttempt();
      }, this.#onError);
    }
  }

  /**
   * Resolves once the first connection attempt is decided: connected, or failed (commands then
   * fail fast until Redis is back). At once for a borrowed client. Never rejects.
   */
  async firstAttempt(): Promise<void> {
    await this.#firstAttempt;
  }

  /**
   * A second connection to the same Redis, with this one's settings, always owned (closed by its
   * own close(), even when this one is borrowed). For a blocking command (XREADGROUP BLOCK, BLPOP):
   * a connection answers in order, so a blocked one holds up every command queued behind it.
   * On a cluster it is a second cluster client that connects only to the nodes it is sent to;
   * `name` is the CLIENT SETNAME of its connections. A borrowed Sentinel client cannot be
   * duplicated (node-redis has no way to): E_INVALID_OPTION; give `sentinel` options instead.
   */
  duplicate(name: string): RedisConnection {
    const client = this.#duplicateClient(name);
    ownDuplicates.add(client);
    const { url: _url, client: _client, cluster: _cluster, sentinel: _sentinel, ...settings } = this.#options;
    return new RedisConnection({ ...settings, client });
  }

  #duplicateClient(name: string): AnyRedis {
    switch (this.mode) {
      case 'cluster': {
        const cluster = this.client as RedisClusterType;
        return cluster.duplicate({
          // Only the nodes the blocking commands go to, not one more connection to every master.
          minimizeConnections: true,
          defaults: { ...cluster._options.defaults, disableOfflineQueue: true, name },
        }) as unknown as AnyRedis;
      }
      case 'sentinel': {
        const sentinel = this.#options.sentinel;
        if (sentinel === undefined) {
          throw new CacheError(
            'E_INVALID_OPTION',
            'redis: a Sentinel client passed as `client` cannot be duplicated for a blocking read; give `sentinel` options instead',
          );
        }
        return createSentinel({
          ...sentinel,
          nodeClientOptions: {
            ...hardenedClientOptions(this.#options),
            ...sentinel.nodeClientOptions,
            name,
          },
        } as SentinelOptions) as unknown as AnyRedis;
      }
      default:
        return (this.client as RedisClientType).duplicate({
          disableOfflineQueue: true,
          name,
        }) as unknown as AnyRedis;
    }
  }

  /**
   * The options of this Sentinel setup's connections to its data nodes (credentials, TLS, the
   * back-off), for a client of our own to the master: the tracked connection. A borrowed Sentinel
   * client keeps its options private: E_INVALID_OPTION; give `sentinel` options instead.
   */
  sentinelNodeOptions(): RedisClientOptions {
    const sentinel = this.#options.sentinel;
    if (this.mode !== 'sentinel' || sentinel === undefined) {
      throw new CacheError(
        'E_INVALID_OPTION',
        "redis tracking: a Sentinel client passed as `client` cannot be followed to its master (node-redis keeps its connection options private); give `sentinel` options instead, or use coherence: 'bus'",
      );
    }
    return { ...hardenedClientOptions(this.#options), ...sentinel.nodeClientOptions } as RedisClientOptions;
  }

  /** The node-redis client (a new one after a stalled connection was replaced). */
  get client(): AnyRedis {
    return this.#client;
  }

  /** Connected and accepting commands. */
  get isReady(): boolean {
    // A cluster client is open before it knows its slots (and stays so when discovery failed):
    // a command sent then fails with a TypeError inside node-redis, not a connection error.
    if (this.mode === 'cluster') {
      const cluster = this.client as RedisClusterType;
      return cluster.isOpen && cluster.masters.length > 0;
    }
    const client = this.client as { isReady?: boolean; isOpen?: boolean };
    return client.isReady ?? client.isOpen ?? false;
  }

  /** Runs one command, routed by its first key on a cluster. */
  command<T>(args: string[], firstKey?: string, readonly = false): Promise<T> {
    const firstAttempt = this.#firstAttempt;
    // Not `isReady`: a cluster client reports itself open before it has discovered its slots.
    if (firstAttempt !== undefined) {
      return firstAttempt.then(() => this.send<T>(args, firstKey, readonly));
    }
    const stall = this.#stall;
    if (stall === undefined) return this.send<T>(args, firstKey, readonly);
    if (stall.isStalled() && this.isReady) this.#replaceStalledClient(stall);
    return stall.track(this.send<T>(args, firstKey, readonly));
  }

  /**
   * Swaps a stalled client for a fresh connection with the same options. The old one is
   * destroyed, which rejects what it still had pending (core already gave up on those).
   */
  #replaceStalledClient(stall: StallDetector): void {
    const stalled = this.#client as RedisClientType;
    const fresh = stalled.duplicate();
    fresh.on('error', this.#onError);
    void fresh.connect().catch(this.#onError);
    this.#client = fresh as unknown as AnyRedis;
    this.replacements++;
    stall.reset();
    stalled.off('error', this.#onError);
    stalled.on('error', () => {}); // destroying may still emit
    try {
      stalled.destroy();
    } catch {
      // already closed
    }
  }

  private send<T>(args: string[], firstKey: string | undefined, readonly: boolean): Promise<T> {
    switch (this.mode) {
      case 'cluster':
        // Route by a hash tag of the key's true slot: node-redis's own slot function misreads some keys.
        return (this.client as RedisClusterType).sendCommand(
          firstKey === undefined ? undefined : `{${slotTag(keySlot(firstKey))}}`,
          readonly,
          args,
        ) as Promise<T>;
      case 'sentinel':
        return (this.client as RedisSentinelType).sendCommand(readonly, args) as Promise<T>;
      default:
        return (this.client as RedisClientType).sendCommand(args) as Promise<T>;
    }
  }

  /** A command runner per master node: what SCAN must visit to see every key. */
  async masters(): Promise<NodeCommand[]> {
    if (this.mode !== 'cluster') return [(args) => this.command(args)];
    const cluster = this.client as RedisClusterType;
    return Promise.all(
      cluster.masters.map(async (master) => {
        const node = await cluster.nodeClient(master);
        return <T>(args: string[]) => node.sendCommand(args) as Promise<T>;
      }),
    );
  }

  /**
   * Cluster only: a new standalone client (not connected, owned by the caller) to the node at
   * `host:port` as CLUSTER SLOTS names it, with the settings node-redis gives its own node
   * clients: the cluster's `defaults` (this store's hardened options, credentials, TLS) and its
   * `nodeAddressMap`, then `overrides`. For connections that must stay on one node (tracking).
   */
  clusterNodeClient(host: string, port: number, overrides: Partial<RedisClientOptions>): RedisClientType {
    if (this.mode !== 'cluster') {
      throw new CacheError('E_UNSUPPORTED', `redis: clusterNodeClient() on a ${this.mode} connection`);
    }
    const { defaults = {}, nodeAddressMap } = (this.client as RedisClusterType)._options;
    const address = `${host}:${port}`;
    const mapped = typeof nodeAddressMap === 'function' ? nodeAddressMap(address) : nodeAddressMap?.[address];
    return createClient({
      ...defaults,
      ...overrides,
      socket: { ...defaults.socket, ...(mapped ?? { host, port }) },
    } as RedisClientOptions) as unknown as RedisClientType;
  }

  /**
   * Closes the client unless it was borrowed. Idempotent (the first call decides how); never
   * hangs on a dead server. By default, replies to commands already sent are waited for (at most
   * 1 s); `{ wait: false }` drops them at once, for a connection held by a blocking read (a PING
   * would queue behind it).
   */
  close(options: { wait?: boolean } = {}): Promise<void> {
    this.#closing ??= this.#close(options.wait ?? true);
    return this.#closing;
  }

  async #close(wait: boolean): Promise<void> {
    if (this.borrowed) {
      this.client.off('error', this.#onError);
      return;
    }
    // Replies to commands already sent arrive before the PING's; a server that does not answer
    // is not waited for. (node-redis's close() cannot be followed by destroy(): destroy() then
    // throws ClientClosedError and the socket stays open until the server answers.)
    if (wait && this.isReady) await settleWithin(this.send(['PING'], undefined, false), 1_000);
    try {
      await (this.client as { destroy(): unknown }).destroy();
    } catch {
      // already closed
    }
  }
}

function hardenedClientOptions(options: RedisConnectionOptions): RedisClientOptions {
  const connectTimeout = parseTimeout(options.connectTimeout ?? '1s', 'connectTimeout');
  const maxDelay = parseTimeout(options.maxReconnectDelay ?? '2s', 'maxReconnectDelay');
  const tls = options.tls === undefined ? {} : { tls: true as const, ...options.tls };
  return {
    disableOfflineQueue: true,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
    socket: {
      connectTimeout,
      // Exponential back-off with jitter, forever: the cache must come back when Redis does.
      reconnectStrategy: (retries: number) =>
        backoffDelay(retries, 50, maxDelay) + Math.floor(Math.random() * 50),
      ...tls,
    },
    ...options.clientOptions,
  } as RedisClientOptions;
}

/** Clients duplicate() made and handed to the constructor: owned, not borrowed. */
const ownDuplicates = new WeakSet<object>();

/**
 * Checks connection options before any I/O: an object, exactly one of `url`, `client`, `cluster`
 * and `sentinel` (there is no default server), a `redis://`/`rediss://` url, valid durations.
 * Throws E_INVALID_OPTION, its message starting with `label`. For wrappers (a stream source, a
 * bus) that open their connection later but must refuse misuse at construction.
 */
export function assertConnectionOptions(
  options: unknown,
  label = 'redis',
): asserts options is RedisConnectionOptions {
  if (options === null || typeof options !== 'object') {
    throw new CacheError(
      'E_INVALID_OPTION',
      `${label}: options are required (one of url, client, cluster or sentinel)`,
    );
  }
  const { url, client, cluster, sentinel } = options as Partial<Record<keyof RedisTarget, unknown>>;
  const given = [url, client, cluster, sentinel].filter((value) => value !== undefined);
  if (given.length !== 1) {
    throw new CacheError(
      'E_INVALID_OPTION',
      given.length === 0
        ? `${label}: give one of url, client, cluster or sentinel (there is no default server)`
        : `${label}: give one of url, client, cluster or sentinel, not several`,
    );
  }
  if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//.test(url))) {
    throw new CacheError('E_INVALID_OPTION', `${label}: url must start with redis:// or rediss://`);
  }
  const settings = options as RedisConnectionSettings;
  parseTimeout(settings.connectTimeout ?? '1s', 'connectTimeout');
  parseTimeout(settings.maxReconnectDelay ?? '2s', 'maxReconnectDelay');
  parseTimeout(settings.stallTimeout ?? '2s', 'stallTimeout');
}

function modeOf(client: AnyRedis): RedisMode {
  if ('masters' in client) return 'cluster';
  if ('getSentinelNode' in client || 'getMasterNode' in client) return 'sentinel';
  return 'standalone';
}
