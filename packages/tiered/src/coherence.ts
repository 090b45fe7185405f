import { randomBytes } from 'node:crypto';
import type { CacheBus } from '@org/cache-core/adapter';

/** What one instance tells the others: which L1 entries to drop. Never values. */
export type Invalidation = { keys: string[] } | { patterns: string[] } | { all: true };

interface Wire {
  v: 1;
  /** Sender instance id: an instance ignores its own messages. */
  i: string;
  /** Sender sequence number: a jump means lost messages. */
  s: number;
  k?: string[];
  p?: string[];
  a?: 1;
}

export interface CoherenceHandlers {
  invalidate(invalidation: Invalidation): void;
  /** L1 can no longer be trusted (disconnected, or messages lost): drop it all. */
  distrust(reason: 'disconnected' | 'gap' | 'unreadable'): void;
  /** Messages flow again: L1 may be filled again. */
  trust(): void;
}

export interface CoherenceStats {
  published: number;
  publishFailures: number;
  queued: number;
  /** Messages given up because the retry queue was full (receivers see the gap). */
  dropped: number;
  received: number;
  gaps: number;
  disconnects: number;
  unreadable: number;
}

const MAX_SENDERS = 10_000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;

/**
 * The L1 coherence protocol over a `CacheBus`. Messages carry the sender's id and a per-sender
 * sequence, so a receiver sees when it missed something and distrusts its L1 rather than serve
 * what it should have dropped. Publishing failures go to a bounded queue retried in order with
 * back-off; overflow drops the oldest message, which receivers then see as a gap.
 */
export class Coherence {
  readonly instance = randomBytes(8).toString('base64url');
  readonly stats: CoherenceStats = {
    published: 0,
    publishFailures: 0,
    queued: 0,
    dropped: 0,
    received: 0,
    gaps: 0,
    disconnects: 0,
    unreadable: 0,
  };
  private sequence = 0;
  private readonly queue: string[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
  private sending = false;
  private readonly lastSeen = new Map<string, number>();
  private readonly unsubscribe: Array<() => void>;
  private closed = false;

  constructor(
    private readonly bus: CacheBus,
    private readonly handlers: CoherenceHandlers,
    private readonly maxQueue: number,
  ) {
    this.unsubscribe = [
      bus.subscribe((message) => this.receive(message)),
      bus.onConnectionChange((connected) => {
        if (connected) {
          // Whatever was published while we were away is lost: drop L1 once more, then trust it.
          handlers.distrust('disconnected');
          this.lastSeen.clear();
          handlers.trust();
        } else {
          this.stats.disconnects++;
          handlers.distrust('disconnected');
        }
      }),
    ];
  }

  /** Tells every other instance; never throws (failures are queued, retried and counted). */
  publish(invalidation: Invalidation): void {
    if (this.closed) return;
    const wire: Wire = { v: 1, i: this.instance, s: ++this.sequence };
    if ('keys' in invalidation) wire.k = invalidation.keys;
    else if ('patterns' in invalidation) wire.p = invalidation.patterns;
    else wire.a = 1;
    // Every message goes through the queue and one sender, one publish at a time: a slow failure
    // must not let a later message overtake it (receivers would see a false gap).
    this.enqueue(JSON.stringify(wire));
    void this.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  private enqueue(message: string): void {
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push(message);
    this.stats.queued = this.queue.length;
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.retryDelay);
    this.retryTimer.unref();
  }

  private async flush(): Promise<void> {
    if (this.sending || this.closed) return;
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const message = this.queue[0] as string;
        try {
          await this.bus.publish(message);
        } catch {
          this.stats.publishFailures++;
          this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
          this.scheduleRetry();
          return;
        }
        // An overflow may have dropped it from the queue while it was being sent.
        if (this.queue[0] === message) this.queue.shift();
        this.stats.published++;
        this.retryDelay = RETRY_MIN_MS;
      }
    } finally {
      this.sending = false;
      this.stats.queued = this.queue.length;
    }
  }

  private receive(message: string): void {
    const wire = parse(message);
    if (wire === undefined) {
      // A message we cannot read may have been an invalidation: err towards a miss.
      this.stats.unreadable++;
      this.handlers.distrust('unreadable');
      this.handlers.trust();
      return;
    }
    if (wire.i === this.instance) return;
    this.stats.received++;
    const last = this.lastSeen.get(wire.i);
    this.remember(wire.i, wire.s);
    if (last !== undefined && wire.s !== last + 1 && wire.s > last) {
      this.stats.gaps++;
      this.handlers.distrust('gap');
      this.handlers.trust();
      return;
    }
    if (wire.a === 1) this.handlers.invalidate({ all: true });
    else if (wire.k !== undefined) this.handlers.invalidate({ keys: wire.k });
    else if (wire.p !== undefined) this.handlers.invalidate({ patterns: wire.p });
  }

  private remember(sender: string, sequence: number): void {
    this.lastSeen.delete(sender);
    this.lastSeen.set(sender, sequence);
    if (this.lastSeen.size > MAX_SENDERS) {
      const oldest = this.lastSeen.keys().next().value as string;
      this.lastSeen.delete(oldest);
    }
  }
}

function parse(message: string): Wire | undefined {
  try {
    const wire = JSON.parse(message) as Wire;
    if (wire?.v !== 1 || typeof wire.i !== 'string' || typeof wire.s !== 'number') return undefined;
    if (wire.k !== undefined && !isStringArray(wire.k)) return undefined;
    if (wire.p !== undefined && !isStringArray(wire.p)) return undefined;
    return wire;
  } catch {
    return undefined;
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
