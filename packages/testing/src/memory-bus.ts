import type { CacheBus } from '@org/cache-core/adapter';

/** One endpoint of a memory bus hub, with the faults a real bus has. */
export interface MemoryBusEndpoint extends CacheBus {
  /** Simulates a dropped subscription: messages stop arriving and listeners hear `false`. */
  disconnect(): void;
  /** Resubscribes: listeners hear `true`; what was published meanwhile is lost, as on Redis. */
  reconnect(): void;
}

export interface MemoryBusHub {
  /** A new endpoint, connected. */
  connect(): MemoryBusEndpoint;
  /** The next `count` published messages reach nobody (a lossy network). */
  dropNext(count: number): void;
  /** Messages published so far (delivered or not). */
  readonly published: readonly string[];
}

/**
 * An in-process `CacheBus` for unit tests: endpoints of one hub stand for processes on one Redis.
 * Delivery is asynchronous (a microtask later), like a network.
 */
export function memoryBusHub(): MemoryBusHub {
  const endpoints = new Set<Endpoint>();
  const published: string[] = [];
  let toDrop = 0;

  class Endpoint implements MemoryBusEndpoint {
    connected = true;
    closed = false;
    readonly listeners = new Set<(message: string) => void>();
    readonly stateListeners = new Set<(connected: boolean) => void>();

    async publish(message: string): Promise<void> {
      if (this.closed) throw new Error('memory bus endpoint is closed');
      if (!this.connected) throw new Error('memory bus endpoint is disconnected');
      published.push(message);
      if (toDrop > 0) {
        toDrop--;
        return;
      }
      const receivers = [...endpoints].filter((endpoint) => endpoint.connected && !endpoint.closed);
      queueMicrotask(() => {
        for (const receiver of receivers) for (const listener of receiver.listeners) listener(message);
      });
    }

    subscribe(listener: (message: string) => void): () => void {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }

    onConnectionChange(listener: (connected: boolean) => void): () => void {
      this.stateListeners.add(listener);
      return () => this.stateListeners.delete(listener);
    }

    disconnect(): void {
      this.setConnected(false);
    }

    reconnect(): void {
      this.setConnected(true);
    }

    async close(): Promise<void> {
      this.closed = true;
      endpoints.delete(this);
    }

    private setConnected(connected: boolean): void {
      if (this.connected === connected) return;
      this.connected = connected;
      for (const listener of this.stateListeners) listener(connected);
    }
  }

  return {
    connect() {
      const endpoint = new Endpoint();
      endpoints.add(endpoint);
      return endpoint;
    },
    dropNext(count: number) {
      toDrop += count;
    },
    get published() {
      return published;
    },
  };
}
