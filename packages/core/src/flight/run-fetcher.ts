import type { Scope } from '../config/scope.js';
import { FetchTimeoutError } from '../errors.js';
import { publish } from '../observe/events.js';
import type { Flight } from './coalescer.js';
import type { CacheContext } from './context.js';
import type { FetchJob } from './fetch-job.js';
import type { FetcherControl } from './fetcher-control.js';
import { eventOf } from './record.js';

/**
 * Runs a flight's fetcher under its deadline, with a signal aborted on timeout or cache close,
 * and records fetches, errors and latency. A synchronous throw counts like a rejection. A closed
 * flight starts no fetcher. An invalid argument the fetcher gave its context fails the fetch.
 */
export async function runFetcher(job: FetchJob, control: FetcherControl): Promise<unknown> {
  const { context, flight, fetcher, scope } = job;
  try {
    return await runWithDeadline(context, scope, [flight], job.request.fetchTimeoutMs, async (signal) => {
      const value = await fetcher(control.open(signal));
      if (control.invalidArgument !== undefined) throw control.invalidArgument;
      return value;
    });
  } finally {
    control.settle();
  }
}

/**
 * One upstream call standing for one or more flights (a batch fetch stands for each key it was
 * asked): every flight counts a fetch, its latency and its error, as if it had run on its own,
 * so a batch's keys add up in stats() like getOrSet's. The controller hangs on each flight, not
 * as a listener on a signal shared by every fetch (which piled up past Node's listener warning
 * under load): close() aborts it through any of them.
 */
export async function runWithDeadline<T>(
  context: CacheContext,
  scope: Scope,
  flights: readonly Flight[],
  timeoutMs: number,
  call: (signal: AbortSignal) => T | Promise<T>,
): Promise<T> {
  for (const flight of flights) flight.assertOpen();
  const controller = new AbortController();
  for (const flight of flights) flight.fetchController = controller;
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  scope.metrics.fetches += flights.length;
  try {
    const fetched = Promise.resolve().then(() => call(controller.signal));
    if (timeoutMs <= 0) return await fetched;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const only = flights.length === 1 ? flights[0] : undefined;
        const error = new FetchTimeoutError(timeoutMs, only === undefined ? {} : { key: only.key });
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    return await Promise.race([fetched, timeout]);
  } catch (error) {
    scope.metrics.fetchErrors += flights.length;
    const durationMs = performance.now() - started;
    for (const flight of flights) {
      publish('fetchError', () => ({ ...eventOf(context, scope, flight.key), durationMs, error }));
    }
    throw error;
  } finally {
    clearTimeout(timer);
    const durationMs = performance.now() - started;
    for (const flight of flights) {
      if (flight.fetchController === controller) flight.fetchController = undefined;
      scope.metrics.fetchLatency.record(durationMs);
      publish('fetch', () => ({ ...eventOf(context, scope, flight.key), durationMs }));
    }
  }
}
