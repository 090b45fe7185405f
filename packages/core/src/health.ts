import type { BreakerState } from './breaker.js';
import type { GuardedStore } from './guarded-store.js';

export type HealthStatus = 'up' | 'degraded' | 'down';

export interface StoreHealth {
  name: string;
  status: HealthStatus;
  latencyMs: number;
  breaker: BreakerState;
  /** Why the store is not `up`. */
  reason?: string;
}

export interface CacheHealth {
  status: HealthStatus;
  timestamp: string;
  store: StoreHealth;
  /** Fetches running right now in this process. */
  inFlight: number;
}

/**
 * Probes the store with one read of an internal key, through the same deadline and breaker as
 * every operation. `degraded`: the store answers but slowly (over half its deadline) or the
 * breaker is probing; `down`: it did not answer or the breaker is open.
 */
export async function probeStore(
  store: GuardedStore,
  probeKey: string,
  operationTimeoutMs: number,
): Promise<StoreHealth> {
  const started = performance.now();
  try {
    await store.get(probeKey);
  } catch (error) {
    return {
      name: store.name,
      status: 'down',
      latencyMs: elapsed(started),
      breaker: store.breaker.state,
      reason: error instanceof Error ? error.message : String(error),
    };
  }
  const latencyMs = elapsed(started);
  const base = { name: store.name, latencyMs, breaker: store.breaker.state };
  if (store.breaker.state !== 'closed')
    return { ...base, status: 'degraded', reason: `circuit ${store.breaker.state}` };
  if (!store.driver.inProcess && latencyMs > operationTimeoutMs / 2) {
    return {
      ...base,
      status: 'degraded',
      reason: `slow: ${latencyMs} ms against a ${operationTimeoutMs} ms deadline`,
    };
  }
  return { ...base, status: 'up' };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
