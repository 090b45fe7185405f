import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms` milliseconds (a plain timer: tests and the bench wait with it). */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}
