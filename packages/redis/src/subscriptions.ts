import type { RedisConnection } from './connection.js';

type Listener = (message: string) => void;
type Subscriber = {
  subscribe(channel: string, listener: Listener): Promise<unknown>;
  unsubscribe(channel: string, listener?: Listener): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  connect(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy(): unknown;
};

/**
 * Pub/sub over one dedicated connection, opened on first use (a subscribed connection cannot run
 * other commands). Channels are subscribed once and fan out to local listeners; state changes
 * (down on error or reconnect, up when ready) are reported so a bus can distrust what it missed.
 */
export class Subscriptions {
  private subscriber: Subscriber | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private readonly stateListeners = new Set<(up: boolean) => void>();
  private closed = false;
  ready = false;

  constructor(private readonly connection: RedisConnection) {}

  /** Adds a listener for a channel (subscribing on first use); returns its removal. */
  onMessage(channel: string, listener: Listener): () => void {
    let set = this.listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(channel, set);
    }
    set.add(listener);
    void this.subscribe(channel).catch(() => {});
    return () => {
      set.delete(listener);
    };
  }

  /** Resolves once the channel is subscribed; rejects if the subscription fails. */
  subscribe(channel: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('subscriptions closed'));
    let pending = this.subscribing.get(channel);
    if (pending === undefined) {
      pending = this.open().subscribe(channel, (message) => {
        for (const listener of this.listeners.get(channel) ?? []) listener(message);
      });
      // A resolved SUBSCRIBE is a live subscription: node-redis emits 'ready' only a moment later.
      pending.then(
        () => this.closed || this.setState(true),
        () => this.subscribing.delete(channel),
      );
      this.subscribing.set(channel, pending);
    }
    return pending;
  }

  onStateChange(listener: (up: boolean) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber === undefined) return;
    try {
      // The cluster client is the connection's own: leave its channels, never close it here.
      if (subscriber === (this.connection.client as unknown)) {
        await Promise.all([...this.subscribing.keys()].map((channel) => subscriber.unsubscribe(channel)));
      } else {
        await subscriber.destroy();
      }
    } catch {
      // Already gone.
    }
  }

  private open(): Subscriber {
    if (this.subscriber !== undefined) return this.subscriber;
    const client = this.connection.client as unknown as { duplicate(): Subscriber } & Subscriber;
    // A cluster routes SUBSCRIBE to a pub/sub node of its own; a single node needs a second connection.
    const subscriber: Subscriber = this.connection.mode === 'cluster' ? client : client.duplicate();
    subscriber.on('error', () => this.setState(false));
    subscriber.on('end', () => this.setState(false));
    subscriber.on('reconnecting', () => this.setState(false));
    subscriber.on('ready', () => this.setState(true));
    if (subscriber !== client) void subscriber.connect().catch(() => this.setState(false));
    this.subscriber = subscriber;
    return subscriber;
  }

  private setState(up: boolean): void {
    if (this.ready === up) return;
    this.ready = up;
    for (const listener of this.stateListeners) listener(up);
  }
}
