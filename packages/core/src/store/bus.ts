/**
 * A message bus between the processes that share a store, for keeping their in-process (L1)
 * tiers coherent. It carries short text messages (keys, tags, prefixes; never values) and says
 * when it may have missed some: a subscriber that was disconnected cannot know what it missed.
 * `redisBus()` in @org/cache-redis implements it; @org/cache-testing has an in-process one.
 */
export interface CacheBus {
  /** Delivers `message` to every subscriber, this process's included (receivers filter their own). */
  publish(message: string): Promise<void>;
  /** Receives every message published after the subscription is live; returns the unsubscribe. */
  subscribe(listener: (message: string) => void): () => void;
  /**
   * `false` when the subscription dropped (messages may be lost from then on), `true` when it is
   * live again. Returns the removal of the listener.
   */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
  /** Whether the subscription is live right now. */
  readonly connected: boolean;
  close(): Promise<void>;
}
