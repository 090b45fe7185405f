import { CacheError } from '@org/cache-core';
import { withDeadline } from '@org/cache-core/adapter';
import type { RedisConnection } from '@org/cache-redis/connection';

/**
 * One stream command on `@org/cache-redis`'s connection (the hardened one every Redis user of
 * the SDK shares: no offline queue, bounded connects, reconnect back-off, 'error' always
 * listened to), routed by the stream's key: on a Redis Cluster it goes to the master of the
 * stream's slot, and follows MOVED when the slot moves.
 *
 * Rejects with E_STORE_UNAVAILABLE when the connection is down, with E_STORE_TIMEOUT after
 * `timeoutMs` (the reply, if it comes, is dropped), and with the server's error reply as is
 * (`NOGROUP ...`, `WRONGTYPE ...`).
 */
export async function streamCommand<T>(
  connection: RedisConnection,
  args: string[],
  stream: string,
  timeoutMs: number,
): Promise<T> {
  // Outside the deadline: the first connection attempt is bounded by its own connect timeout.
  await connection.firstAttempt();
  if (!connection.isReady) {
    const reason = connection.lastError instanceof Error ? `: ${connection.lastError.message}` : '';
    throw new CacheError('E_STORE_UNAVAILABLE', `redis stream: not connected${reason}`);
  }
  return withDeadline(
    connection.command<T>(args, stream),
    timeoutMs,
    () => new CacheError('E_STORE_TIMEOUT', `redis ${args[0]} did not answer within ${timeoutMs} ms`),
  );
}

const REPLY_ERRORS = new Set(['ErrorReply', 'SimpleError', 'BlobError']);

/** An error reply from the server (it answered, and refused), not a lost connection or a timeout. */
export function isServerReply(error: unknown): error is Error {
  return error instanceof Error && REPLY_ERRORS.has(error.constructor.name);
}

/** An error reply from the server whose first word is `prefix` (`NOGROUP`, `BUSYGROUP`, ...). */
export function isReplyError(error: unknown, prefix: string): boolean {
  return isServerReply(error) && error.message.startsWith(`${prefix} `);
}
