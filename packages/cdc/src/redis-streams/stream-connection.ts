import { CacheError } from '@org/cache-core';
import { createClient, type RedisClientOptions } from '@redis/client';

/**
 * The node-redis client surface the stream source and publisher use: a standalone client
 * (`createClient()` from `@redis/client` or `redis`, v5). Structural, so a client from another
 * copy of node-redis (`@keyv/redis` re-exports one) fits too.
 */
export interface StreamClient {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(overrides?: { disableOfflineQueue?: boolean; name?: string }): StreamClient;
  connect(): Promise<unknown>;
  destroy(): void;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  off(event: 'error', listener: (error: unknown) => void): unknown;
}

/** Where Redis is: exactly one of `url` and `client`. There is no default server. */
export type StreamTarget =
  | {
      /** `redis://[user:password@]host:port[/db]` or `rediss://`. */
      url: string;
      client?: never;
    }
  | {
      /** A connected client you built: used as is and left open (you close it). */
      client: StreamClient;
      url?: never;
    };

export type StreamConnectionOptions = StreamTarget & {
  /** Extra node-redis options for a connection opened from `url`, merged last. */
  clientOptions?: Partial<RedisClientOptions>;
};

const CONNECT_TIMEOUT_MS = 1_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * One Redis connection, opened from a url or borrowed. Like `@org/cache-redis`'s connection, hardened:
 * commands fail fast while disconnected (no offline queue), reconnects back off forever with
 * jitter, 'error' events are always listened to (an unhandled one would crash the process) and
 * every command is bounded by a deadline.
 */
export class StreamConnection {
  readonly client: StreamClient;
  /** True when the client was given to us: it is never closed here. */
  readonly borrowed: boolean;
  errors = 0;
  lastError: unknown;
  #closing: Promise<void> | undefined;
  /** Settles when the first connection attempt is decided (connected or its first error). */
  #firstAttempt: Promise<void> | undefined;
  #decideFirstAttempt: () => void = () => {};
  readonly #onError = (error: unknown) => {
    this.errors++;
    this.lastError = error;
    this.#firstAttempt = undefined;
    this.#decideFirstAttempt();
  };

  private constructor(client: StreamClient, borrowed: boolean) {
    this.client = client;
    this.borrowed = borrowed;
    client.on('error', this.#onError);
    if (!borrowed) {
      this.#firstAttempt = new Promise<void>((resolve) => {
        this.#decideFirstAttempt = resolve;
      });
      client.connect().then(() => {
        this.#firstAttempt = undefined;
        this.#decideFirstAttempt();
      }, this.#onError);
    }
  }

  /** Opens a connection from `url` (in the background, retrying forever) or wraps `client`. */
  static open(options: StreamConnectionOptions, name: string): StreamConnection {
    if (options.client !== undefined) return new StreamConnection(options.client, true);
    const client = createClient({
      url: options.url,
      name,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        // Exponential back-off with jitter, forever: the source must come back when Redis does.
        reconnectStrategy: (retries: number) =>
          Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 50),
      },
      ...options.clientOptions,
    }) as unknown as StreamClient;
    return new StreamConnection(client, false);
  }

  /**
   * A second connection with this one's options, always owned (closed by `close()`), for a
   * blocking read: XREADGROUP BLOCK holds its connection, so it must not share one.
   */
  duplicate(name: string): StreamConnection {
    return new StreamConnection(this.client.duplicate({ disableOfflineQueue: true, name }), false);
  }

  get isReady(): boolean {
    return this.client.isReady;
  }

  /** Resolves once the first connection attempt is decided (at once for a borrowed client). */
  async firstAttempt(): Promise<void> {
    await this.#firstAttempt;
  }

  /**
   * Runs one command; rejects with E_STORE_TIMEOUT after `timeoutMs` (the reply, if it comes,
   * is dropped), with E_STORE_UNAVAILABLE when the connection is down, and with the server's
   * error reply as is (`NOGROUP ...`, `WRONGTYPE ...`).
   */
  async command<T>(args: string[], timeoutMs: number): Promise<T> {
    await this.#firstAttempt;
    if (!this.client.isReady) {
      const reason = this.lastError instanceof Error ? `: ${this.lastError.message}` : '';
      throw new CacheError('E_STORE_UNAVAILABLE', `redis stream: not connected${reason}`);
    }
    return (await withTimeout(this.client.sendCommand(args), timeoutMs, args[0] ?? '')) as T;
  }

  /** Closes the connection unless it was borrowed. Idempotent; never waits on a dead server. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.borrowed) {
      this.client.off('error', this.#onError);
      return;
    }
    // destroy(), not close(): close() waits for replies a dead or paused server never sends.
    try {
      this.client.destroy();
    } catch {
      // already closed
    }
  }
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

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new CacheError('E_STORE_TIMEOUT', `redis ${what} did not answer within ${ms} ms`)),
      ms,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
