import { CacheError, type Duration, isCacheError } from '@org/cache-core';
import { parseTimeout } from '@org/cache-core/adapter';
import {
  assertConnectionOptions,
  RedisConnection,
  type RedisConnectionOptions,
} from '@org/cache-redis/connection';
import type { InvalidationSource, SourceContext } from '../source.js';
import { ConsumerLoop } from './consumer-loop.js';
import { StreamCommands } from './stream-commands.js';
import { isServerReply } from './stream-connection.js';
import { type RedisStreamSourceHealth, StreamSourceState } from './stream-health.js';
import { assertName } from './stream-options.js';

/**
 * Where the stream is: exactly one of `url` (`redis://...`), `client`, `cluster` or `sentinel`,
 * with TLS, ACL user and reconnect settings: the options of `@org/cache-redis`'s connection, which
 * the source uses (no default server). A `client` is a node-redis v5 client (standalone or
 * cluster); it is left open by stop(), and the source opens one more connection from it
 * (`duplicate()`) for its blocking read, and closes that one. A Sentinel deployment is given as
 * `sentinel` options (a Sentinel client cannot be duplicated).
 */
export type RedisStreamSourceOptions = RedisConnectionOptions & {
  /** The stream key the bridge appends to. */
  stream: string;
  /**
   * The consumer group: each event is applied once per group. See {@link redisStreamSource} for
   * which instances may share one.
   */
  group: string;
  /**
   * This consumer's name in the group, stable across restarts (a pod name, a hostname): a
   * restarted consumer with the same name first applies what it had read and not acknowledged.
   */
  consumer: string;
  /** Entries read per command. Default 100. */
  batchSize?: number;
  /** How long one read waits for new entries. Default 1 s. */
  block?: Duration;
  /** Entries idle this long on another consumer (a crashed one) are taken over. Default 30 s. */
  claimIdle?: Duration;
  /**
   * How often idle entries are claimed and the group's position is checked against the stream's
   * cap. Default half of `claimIdle`.
   */
  claimInterval?: Duration;
  /** First delay before entries that failed to apply are read again; it doubles. Default 200 ms. */
  retryDelay?: Duration;
  /** Upper bound of that delay. Default 5 s. */
  maxRetryDelay?: Duration;
  /** Deadline of one Redis command (a blocking read gets `block` plus this). Default 2 s. */
  commandTimeout?: Duration;
  /** The source's name in the invalidator's health. Default `redis-stream:<stream>`. */
  name?: string;
};

export interface RedisStreamSource extends InvalidationSource {
  health(): RedisStreamSourceHealth;
}

/**
 * Reads invalidation events from a Redis stream through a consumer group (at least once, in
 * order per consumer), as appended by {@link redisStreamPublisher}.
 *
 * **Events are applied once per consumer group**, by whichever consumer of the group reads them.
 * So choose groups by where the cache lives:
 * - instances that share their store (`redisStore`, or `tieredStore` whose bus reaches every
 *   instance's L1) may share one group: one instance applies an event, the shared store and the
 *   bus carry it to the others;
 * - instances with process-local stores (`memoryStore`) need one group each (say, the pod name),
 *   or an event would reach only one of them.
 *
 * Un-acknowledged entries survive a crash: a restarted consumer (same `consumer` name) applies
 * its own pending entries first, and live consumers of the group claim a dead one's entries after
 * `claimIdle`. An entry that fails to apply (the cache's store is down) stays pending and is
 * retried with back-off; a malformed one is acknowledged and counted. When the stream's cap
 * trimmed entries the group never read, or the group vanished (Redis restarted without
 * persistence), the source calls `failSafe` once, since it cannot tell what it missed.
 *
 * Needs Redis 6.2 or later (XAUTOCLAIM), standalone, Sentinel or Redis Cluster (every command is
 * on the one stream key, so on a cluster the stream lives on one master and the commands follow
 * its slot); telling a trimmed gap from a lag needs Redis 7.0 (the group's read counter). Some reads are Lua scripts
 * (to be atomic): an ACL user needs the `@stream` and `@scripting` categories.
 *
 * @example
 * await cdc.subscribe(
 *   redisStreamSource({ url, stream: 'cdc:salesforce', group: 'bff', consumer: process.env.HOSTNAME }),
 * );
 */
export function redisStreamSource(options: RedisStreamSourceOptions): RedisStreamSource {
  assertConnectionOptions(options, 'redis stream');
  const stream = assertName(options.stream, 'stream');
  const group = assertName(options.group, 'group');
  const consumer = assertName(options.consumer, 'consumer');
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new CacheError(
      'E_INVALID_OPTION',
      `batchSize must be an integer from 1 to 10000, got ${batchSize}`,
    );
  const claimIdleMs = parseTimeout(options.claimIdle ?? '30s', 'claimIdle');
  // 0 would take entries from consumers that are applying them right now.
  if (claimIdleMs < 1) throw new CacheError('E_INVALID_OPTION', 'claimIdle must be at least 1 ms');
  const retryDelayMs = Math.max(1, parseTimeout(options.retryDelay ?? '200ms', 'retryDelay'));
  const settings = {
    batchSize,
    blockMs: Math.max(1, parseTimeout(options.block ?? '1s', 'block')),
    claimIdleMs,
    claimIntervalMs: Math.max(
      10,
      parseTimeout(options.claimInterval ?? Math.round(claimIdleMs / 2), 'claimInterval'),
    ),
    retryDelayMs,
    maxRetryDelayMs: Math.max(retryDelayMs, parseTimeout(options.maxRetryDelay ?? '5s', 'maxRetryDelay')),
  };
  const commandTimeoutMs = Math.max(1, parseTimeout(options.commandTimeout ?? '2s', 'commandTimeout'));
  const name = options.name ?? `redis-stream:${stream}`;
  const {
    stream: _stream,
    group: _group,
    consumer: _consumer,
    batchSize: _batchSize,
    block: _block,
    claimIdle: _claimIdle,
    claimInterval: _claimInterval,
    retryDelay: _retryDelay,
    maxRetryDelay: _maxRetryDelay,
    commandTimeout: _commandTimeout,
    name: _name,
    ...connection
  } = options;

  let main: RedisConnection | undefined;
  let loop: ConsumerLoop | undefined;
  let stopping: Promise<void> | undefined;
  const state = new StreamSourceState(
    { stream, group, consumer },
    () => (main?.isReady ?? false) && (loop?.blockingReady ?? false),
  );

  async function stop(): Promise<void> {
    state.lifecycle = 'stopped';
    await loop?.stop();
    await main?.close();
  }

  return {
    name,
    async start(context: SourceContext) {
      if (state.lifecycle !== 'idle')
        throw new CacheError('E_CLOSED', `source ${name} was already started; create a new one`);
      state.lifecycle = 'running';
      main = new RedisConnection({
        ...connection,
        clientOptions: { name: `cdc-${consumer}`, ...connection.clientOptions },
      } as RedisConnectionOptions);
      try {
        const commands = new StreamCommands({ stream, group, consumer }, main, commandTimeoutMs);
        loop = new ConsumerLoop({ commands, main, context, state, settings });
        await loop.begin();
      } catch (error) {
        stopping ??= stop();
        await stopping;
        // A borrowed Sentinel client, which cannot be duplicated for the blocking read.
        if (isCacheError(error, 'E_INVALID_OPTION')) throw error;
        throw new CacheError(
          'E_STORE_ERROR',
          `source ${name}: Redis refused to create group ${group} on ${stream}: ${isServerReply(error) ? error.message : String(error)}`,
          { cause: error },
        );
      }
    },
    stop() {
      if (state.lifecycle === 'idle') state.lifecycle = 'stopped';
      stopping ??= stop();
      return stopping;
    },
    health: () => state.health(),
  };
}
