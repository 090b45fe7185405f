import type { HealthStatus } from '@org/cache-core';
import type { SourceHealth } from '../source.js';

export interface RedisStreamSourceHealth extends SourceHealth {
  stream: string;
  group: string;
  consumer: string;
  /** The last id this consumer acknowledged. */
  position?: string;
  /** Entries this consumer read and has not acknowledged (failing, or being applied). */
  pending: number;
  /** The whole group's un-acknowledged entries, as of the last check (every `claimInterval`). */
  groupPending?: number;
  /** Entries not yet delivered to the group, as of the last check (Redis 7+). */
  lag?: number;
  acked: number;
  /** Entries taken over from idle consumers (XAUTOCLAIM). */
  claimed: number;
  /** Entries that were not invalidation events: acknowledged and dropped. */
  malformed: number;
  /** Entries trimmed away before this group applied them (each led to a fail-safe). */
  lost: number;
  /** Apply attempts that failed (the cache's store refused); the entries stay pending and are retried. */
  failures: number;
  failSafes: number;
  lastFailSafe?: { at: string; reason: string };
  lastError?: { at: string; message: string };
}

type Lifecycle = 'idle' | 'running' | 'stopped';

/** The counters and conditions of one stream source, and its health as the invalidator reports it. */
export class StreamSourceState {
  lifecycle: Lifecycle = 'idle';
  position: string | undefined;
  readonly pendingIds = new Set<string>();
  groupPending: number | undefined;
  lag: number | undefined;
  acked = 0;
  claimed = 0;
  malformed = 0;
  lost = 0;
  failures = 0;
  failSafes = 0;
  /** Apply failures since the last success: > 0 means entries are waiting for the store. */
  consecutiveFailures = 0;
  /** Why a fail-safe is owed and not yet done (it failed, or it is running). */
  failSafeOwed: string | undefined;
  /** The last Redis command failed (cleared by the next success). */
  redisFailing = false;
  lastFailSafe: { at: string; reason: string } | undefined;
  lastError: { at: string; message: string } | undefined;

  constructor(
    readonly names: { stream: string; group: string; consumer: string },
    private readonly connected: () => boolean,
  ) {}

  recordError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = { at: new Date().toISOString(), message };
  }

  recordFailSafe(reason: string): void {
    this.failSafes++;
    this.failSafeOwed = undefined;
    this.lastFailSafe = { at: new Date().toISOString(), reason };
  }

  health(): RedisStreamSourceHealth {
    const { status, reason } = this.#status();
    return {
      status,
      ...(reason === undefined ? {} : { reason }),
      ...(this.position === undefined ? {} : { position: this.position }),
      ...this.names,
      pending: this.pendingIds.size,
      ...(this.groupPending === undefined ? {} : { groupPending: this.groupPending }),
      ...(this.lag === undefined ? {} : { lag: this.lag }),
      acked: this.acked,
      claimed: this.claimed,
      malformed: this.malformed,
      lost: this.lost,
      failures: this.failures,
      failSafes: this.failSafes,
      ...(this.lastFailSafe === undefined ? {} : { lastFailSafe: this.lastFailSafe }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  #status(): { status: HealthStatus; reason?: string } {
    if (this.lifecycle === 'idle') return { status: 'down', reason: 'not started' };
    if (this.lifecycle === 'stopped') return { status: 'down', reason: 'stopped' };
    if (this.redisFailing || !this.connected()) {
      const cause = this.lastError === undefined ? '' : `: ${this.lastError.message}`;
      return { status: 'down', reason: `cannot read the stream${cause}` };
    }
    if (this.failSafeOwed !== undefined)
      return { status: 'degraded', reason: `a fail-safe flush is owed: ${this.failSafeOwed}` };
    if (this.consecutiveFailures > 0) {
      return {
        status: 'degraded',
        reason: `entries could not be applied (${this.consecutiveFailures} attempts in a row); they stay pending and are retried`,
      };
    }
    return { status: 'up' };
  }
}
