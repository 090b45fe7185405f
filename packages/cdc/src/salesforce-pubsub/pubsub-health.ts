import type { HealthStatus } from '@org/cache-core';
import type { SourceHealth } from '../source.js';
import type { PubSubApi } from './client-shapes.js';

export interface SalesforcePubSubCounters {
  /** Events the client delivered, decodable or not. */
  eventsReceived: number;
  /** Events handed to the invalidator and accepted (applied, ignored, skipped or duplicate). */
  applied: number;
  /** Events that were not change events (or that the client could not decode): counted, skipped. */
  malformed: number;
  /** Apply attempts repeated because the cache could not carry them out. */
  applyRetries: number;
  /** Subscriptions opened again after the stream ended or failed. */
  resubscriptions: number;
  /** Replay ids the client had already rounded (numbers above 2^53): never stored. */
  impreciseReplayIds: number;
  positionWriteFailures: number;
}

export interface SalesforcePubSubHealth extends SourceHealth {
  topic: string;
  /** `callback` (client v5) or `emitter` (client v4). */
  api: PubSubApi;
  /** The last replay id processed: where a new subscription resumes. */
  position?: string;
  /** ISO-8601: the `savedAt` of that position. */
  positionSavedAt?: string;
  /** ISO-8601: the last server keepalive. */
  lastKeepaliveAt?: string;
  /** The last fail-safe flush (every ruled entity dropped) and why. */
  failSafe?: { at: string; reason: string };
  lastError?: { at: string; message: string };
  counters: SalesforcePubSubCounters;
}

export function emptyPubSubCounters(): SalesforcePubSubCounters {
  return {
    eventsReceived: 0,
    applied: 0,
    malformed: 0,
    applyRetries: 0,
    resubscriptions: 0,
    impreciseReplayIds: 0,
    positionWriteFailures: 0,
  };
}

export type Lifecycle = 'idle' | 'subscribed' | 'resubscribing' | 'stopped';

export interface Problem {
  status: Exclude<HealthStatus, 'up'>;
  reason: string;
}

/**
 * `down` when stopped or not started, or when a problem is (an event that could not be applied,
 * a fail-safe flush that failed, a subscribe call that failed); `degraded` while resubscribing,
 * while an apply is retried, or when the server has been silent for longer than keepalives allow;
 * `up` otherwise.
 */
export function pubSubStatus(input: {
  lifecycle: Lifecycle;
  problems: readonly (Problem | undefined)[];
  silentForMs: number | undefined;
  maxSilenceMs: number;
}): { status: HealthStatus; reason?: string } {
  if (input.lifecycle === 'stopped') return { status: 'down', reason: 'stopped' };
  if (input.lifecycle === 'idle') return { status: 'down', reason: 'not started' };
  const problems = input.problems.filter((problem) => problem !== undefined);
  const down = problems.find((problem) => problem.status === 'down');
  if (down) return down;
  if (input.lifecycle === 'resubscribing') {
    return { status: 'degraded', reason: problems[0]?.reason ?? 'resubscribing' };
  }
  if (problems[0]) return problems[0];
  if (input.silentForMs !== undefined && input.silentForMs > input.maxSilenceMs) {
    const seconds = Math.round(input.silentForMs / 1000);
    return { status: 'degraded', reason: `no event or keepalive for ${seconds} s` };
  }
  return { status: 'up' };
}

/** The health payload, with the fields that have no value left out. */
export function describePubSubHealth(input: {
  status: HealthStatus;
  reason: string | undefined;
  topic: string;
  api: PubSubApi;
  position: { replayId: string; savedAt: number } | undefined;
  lastKeepaliveAt: number | undefined;
  failSafe: { at: string; reason: string } | undefined;
  lastError: { at: string; message: string } | undefined;
  counters: SalesforcePubSubCounters;
}): SalesforcePubSubHealth {
  const health: SalesforcePubSubHealth = {
    status: input.status,
    topic: input.topic,
    api: input.api,
    counters: { ...input.counters },
  };
  if (input.reason !== undefined) health.reason = input.reason;
  if (input.position) {
    health.position = input.position.replayId;
    health.positionSavedAt = new Date(input.position.savedAt).toISOString();
  }
  if (input.lastKeepaliveAt !== undefined)
    health.lastKeepaliveAt = new Date(input.lastKeepaliveAt).toISOString();
  if (input.failSafe) health.failSafe = input.failSafe;
  if (input.lastError) health.lastError = input.lastError;
  return health;
}
