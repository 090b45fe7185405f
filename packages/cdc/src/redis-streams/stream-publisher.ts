import { CacheError, type Duration, isCacheError } from '@org/cache-core';
import { parseTimeout } from '@org/cache-core/adapter';
import {
  assertConnectionOptions,
  RedisConnection,
  type RedisConnectionOptions,
} from '@org/cache-redis/connection';
import type { InvalidationEvent } from '../event.js';
import { encodeEvent } from './stream-codec.js';
import { streamCommand } from './stream-connection.js';
import { assertName } from './stream-options.js';

/**
 * Where the stream is: exactly one of `url` (`redis://...`), `client` (a node-redis v5 client,
 * left open by close()), `cluster` or `sentinel`, with TLS, ACL user and reconnect settings: the
 * options of `@org/cache-redis`'s connection (no default server).
 */
export type RedisStreamPublisherOptions = RedisConnectionOptions & {
  /** The stream key the sources read. */
  stream: string;
  /**
   * The stream is capped at about this many entries (`XADD MAXLEN ~`: Redis trims whole nodes,
   * so a little more stays). A consumer group that falls further behind fails safe. Default 100,000.
   */
  maxLen?: number;
  /** Deadline of one XADD. Default 2 s. */
  commandTimeout?: Duration;
};

export interface RedisStreamPublisher {
  readonly stream: string;
  /**
   * Validates the event and appends it; resolves with the entry's stream id. Rejects with
   * E_INVALID_EVENT before any I/O for a malformed event, and with E_STORE_UNAVAILABLE,
   * E_STORE_TIMEOUT or E_STORE_ERROR when Redis did not take it (the caller retries).
   */
  append(event: InvalidationEvent): Promise<string>;
  /** Closes the connection it opened (a passed-in client stays open). Idempotent. */
  close(): Promise<void>;
}

/**
 * The writing side of {@link redisStreamSource}: what a bridge process (a Salesforce CDC
 * subscriber, a webhook receiver) uses to put events on the stream every service instance reads.
 *
 * @example
 * const publisher = redisStreamPublisher({ url, stream: 'cdc:salesforce' });
 * await publisher.append(normalizeSalesforceEvent(message));
 */
export function redisStreamPublisher(options: RedisStreamPublisherOptions): RedisStreamPublisher {
  assertConnectionOptions(options, 'redis stream');
  const stream = assertName(options.stream, 'stream');
  const maxLen = options.maxLen ?? 100_000;
  if (!Number.isInteger(maxLen) || maxLen < 1)
    throw new CacheError('E_INVALID_OPTION', `maxLen must be a positive integer, got ${maxLen}`);
  const timeoutMs = Math.max(1, parseTimeout(options.commandTimeout ?? '2s', 'commandTimeout'));
  const { stream: _stream, maxLen: _maxLen, commandTimeout: _commandTimeout, ...target } = options;
  let connection: RedisConnection | undefined;
  let closed = false;

  return {
    stream,
    async append(event) {
      const [field, json] = encodeEvent(event);
      if (closed) throw new CacheError('E_CLOSED', `publisher of ${stream} is closed`);
      connection ??= new RedisConnection({
        ...target,
        clientOptions: { name: `cdc-publisher-${stream}`, ...target.clientOptions },
      } as RedisConnectionOptions);
      try {
        const id = await streamCommand<string>(
          connection,
          ['XADD', stream, 'MAXLEN', '~', String(maxLen), '*', field, json],
          stream,
          timeoutMs,
        );
        return String(id);
      } catch (error) {
        if (isCacheError(error)) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new CacheError('E_STORE_ERROR', `XADD to ${stream} failed: ${reason}`, { cause: error });
      }
    },
    async close() {
      closed = true;
      await connection?.close();
    },
  };
}
