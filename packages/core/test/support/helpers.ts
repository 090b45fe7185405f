/** A clock for `createCache({ clock })` that moves only when the test says so. */
export function manualClock(start = Date.UTC(2024, 0, 1)) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** The error a synchronous call throws; fails the test if it does not throw. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a synchronous throw');
}

/** Lets queued promise callbacks run (no timers involved). */
export async function settle(): Promise<void> {
  for (let index = 0; index < 10; index++) await Promise.resolve();
}

export { deferred } from './stores.js';

/**
 * Runs `work` and counts the event-loop turns (setImmediate callbacks) other code got while it
 * ran. A long synchronous walk gives none; one that yields gives several, however fast the machine.
 */
export async function eventLoopTurnsDuring<T>(
  work: () => Promise<T>,
): Promise<{ result: T; turns: number; ms: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  try {
    const result = await work();
    return { result, turns, ms: performance.now() - started };
  } finally {
    running = false;
  }
}
