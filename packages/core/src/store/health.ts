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

/** What a registered health check (an invalidation subscriber, say) reports. */
export interface ComponentHealth {
  status: HealthStatus;
  /** Why the component is not `up`. */
  reason?: string;
  /** Anything else worth showing on a health endpoint (counters, positions). */
  [detail: string]: unknown;
}

/** Reports a component's health; called by every `cache.health()`. */
export type HealthCheck = () => ComponentHealth | Promise<ComponentHealth>;

export interface CacheHealth {
  /** The worst of the store's and the checks' statuses. */
  status: HealthStatus;
  timestamp: string;
  store: StoreHealth;
  /** Fetches running right now in this process. */
  inFlight: number;
  /** By name, the checks registered with `cache.addHealthCheck()`. */
  checks: Record<string, ComponentHealth>;
}

const severity: Record<HealthStatus, number> = { up: 0, degraded: 1, down: 2 };

export function worstStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let worst: HealthStatus = 'up';
  for (const status of statuses) if (severity[status] > severity[worst]) worst = status;
  return worst;
}

/**
 * Runs every check, each bounded by `timeoutMs`: a check that throws or does not answer is
 * reported `down` with the reason rather than failing or hanging the whole health call.
 */
export async function runHealthChecks(
  checks: ReadonlyMap<string, HealthCheck>,
  timeoutMs: number,
): Promise<Record<string, ComponentHealth>> {
  const entries = await Promise.all(
    [...checks].map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
  );
  return Object.fromEntries(entries);
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<ComponentHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ComponentHealth>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'down', reason: `health check did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (error) {
    return { status: 'down', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
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
