import { FetchTimeoutError } from '../errors.js';
import { publish } from '../observe/events.js';
import type { FetchJob } from './fetch-job.js';
import { eventOf } from './record.js';

/**
 * Runs a flight's fetcher under its deadline, with a signal aborted on timeout or cache close,
 * and records fetches, errors and latency. A synchronous throw counts like a rejection. A closed
 * flight starts no fetcher. The controller hangs on the flight, not as a listener on a signal
 * shared by every fetch (which piled up past Node's listener warning under load).
 */
export async function runFetcher(job: FetchJob): Promise<unknown> {
  const { context, flight, fetcher, scope } = job;
  const timeoutMs = job.request.fetchTimeoutMs;
  const staleValue = job.stale?.value;
  flight.assertOpen();
  const key = flight.key;
  const controller = new AbortController();
  flight.fetchController = controller;
  let timer: NodeJS.Timeout | undefined;
  const started = performance.now();
  scope.metrics.fetches++;
  try {
    const fetched = Promise.resolve().then(() => fetcher({ key, signal: controller.signal, staleValue }));
    if (timeoutMs <= 0) return await fetched;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new FetchTimeoutError(timeoutMs, { key });
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    return await Promise.race([fetched, timeout]);
  } catch (error) {
    scope.metrics.fetchErrors++;
    publish('fetchError', () => ({
      ...eventOf(context, scope, key),
      durationMs: performance.now() - started,
      error,
    }));
    throw error;
  } finally {
    clearTimeout(timer);
    flight.fetchController = undefined;
    const durationMs = performance.now() - started;
    scope.metrics.fetchLatency.record(durationMs);
    publish('fetch', () => ({ ...eventOf(context, scope, key), durationMs }));
  }
}
