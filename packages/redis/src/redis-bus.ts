import { CacheError } from '@org/cache-core';
import type { CacheBus } from '@org/cache-core/adapter';
import { RedisConnection, type RedisConnectionOptions } from './connection.js';
import { Subscriptions } from './subscriptions.js';

/** Where Redis is (`url`, `client`, `cluster` or `sentinel`: one, required) and the channel. */
export type RedisBusOptions = RedisConnectionOptions & {
  /** The pub/sub channel. Default `org-cache:bus`; give each application its own. */
  channel?: string;
};

/**
 * A `CacheBus` on Redis pub/sub: publishing on the regular connection, subscribing on a dedicated
 * one (a subscribed connection can run nothing else). Pub/sub is fire-and-forget: messages sent
 * while a subscriber is disconnected are lost, which is why the bus reports its connection state.
 */
export class RedisBus implements CacheBus {
  readonly channel: string;
  readonly connection: RedisConnection;
  private readonly subscriptions: Subscriptions;

  constructor(options: RedisBusOptions) {
    // `?? {}`: a plain-JS `redisBus()` reaches the connection's E_INVALID_OPTION, not a TypeError.
    const { channel = 'org-cache:bus', ...connection } = options ?? ({} as RedisBusOptions);
    if (typeof channel !== 'string' || channel.length === 0) {
      throw new CacheError('E_INVALID_OPTION', 'redisBus: channel must be a non-empty string');
    }
    this.channel = channel;
    this.connection = new RedisConnection(connection);
    this.subscriptions = new Subscriptions(this.connection);
  }

  get connected(): boolean {
    return this.subscriptions.ready;
  }

  async publish(message: string): Promise<void> {
    try {
      await this.connection.command(['PUBLISH', this.channel, message]);
    } catch (error) {
      throw new CacheError(
        'E_STORE_ERROR',
        `redisBus: publish failed: ${(error as Error)?.message ?? error}`,
        {
          store: 'redis-bus',
          cause: error,
        },
      );
    }
  }

  subscribe(listener: (message: string) => void): () => void {
    return this.subscriptions.onMessage(this.channel, listener);
  }

  /** Resolves once the subscription is live (useful at start-up and in tests). */
  async ready(): Promise<void> {
    await this.subscriptions.subscribe(this.channel);
  }

  onConnectionChange(listener: (connected: boolean) => void): () => void {
    return this.subscriptions.onStateChange(listener);
  }

  async close(): Promise<void> {
    await this.subscriptions.close();
    await this.connection.close();
  }
}

export function redisBus(options: RedisBusOptions): RedisBus {
  return new RedisBus(options);
}
