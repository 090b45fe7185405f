import type { BeforeApplicationShutdown, LoggerService, OnApplicationBootstrap } from '@nestjs/common';
import type { InvalidationSource, Invalidator } from '@org/cache-cdc';
import { RateLimitedLog } from '../logging/rate-limited-log.js';

const WATCH_INTERVAL_MS = 1_000;

/**
 * The invalidator's lifecycle in the application: its sources subscribe once the application has
 * started (so no event is applied before every provider is ready) and stop before shutdown (so
 * none is applied to a closing cache); failures are reported to the logger while it runs.
 */
export class CdcSubscription implements OnApplicationBootstrap, BeforeApplicationShutdown {
  #watch: NodeJS.Timeout | undefined;

  constructor(
    readonly invalidator: Invalidator,
    private readonly sources: readonly InvalidationSource[],
    private readonly logger: LoggerService | undefined,
    private readonly logIntervalMs: number,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const source of this.sources) await this.invalidator.subscribe(source);
    if (this.logger !== undefined)
      this.#watch = watchInvalidator(this.invalidator, this.logger, this.logIntervalMs);
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.#watch);
    // Stops every source (waiting for events being applied) and leaves cache.health().
    await this.invalidator.close();
  }
}

/**
 * Reads the invalidator's counters and source statuses once a second (it publishes no events):
 * failed applies, malformed events and sources going down or degraded, rate-limited.
 */
function watchInvalidator(
  invalidator: Invalidator,
  logger: LoggerService,
  intervalMs: number,
): NodeJS.Timeout {
  const failures = new RateLimitedLog(logger, 'error', intervalMs);
  const invalid = new RateLimitedLog(logger, 'warn', intervalMs);
  const sourceChanges = new RateLimitedLog(logger, 'warn', intervalMs);
  let counters = invalidator.counters();
  const statuses = new Map<string, string>();
  const timer = setInterval(
    () => {
      const health = invalidator.health();
      const message = health.lastError?.message ?? 'unknown error';
      if (health.counters.failed > counters.failed)
        failures.report(
          `${health.counters.failed - counters.failed} change event(s) could not be applied: ${message}`,
        );
      if (health.counters.invalid > counters.invalid)
        invalid.report(
          `${health.counters.invalid - counters.invalid} malformed change event(s) dropped: ${message}`,
        );
      counters = health.counters;
      for (const [name, source] of Object.entries(health.sources)) {
        const before = statuses.get(name) ?? 'up';
        if (source.status !== before)
          sourceChanges.report(
            `source ${name} is ${source.status}${source.reason === undefined ? '' : `: ${source.reason}`}`,
          );
        statuses.set(name, source.status);
      }
    },
    Math.min(WATCH_INTERVAL_MS, Math.max(50, intervalMs)),
  );
  timer.unref();
  return timer;
}
