/** Where logical expiry reads the time. Injectable (`createCache({ clock })`) for tests. */
export interface Clock {
  now(): number;
}

/** Reads served from one reading before the clock is read again, even if no timer has run. */
const READS_PER_READING = 1_024;

let reading = 0; // 0 = no current reading
let readsLeft = 0;
// The Date a reading came from: installing or removing fake timers (which replace the global
// Date) invalidates it at once, so a test that advances fake time sees expiry follow.
let readingDate: DateConstructor | undefined;
let timerDate: DateConstructor | undefined;

/**
 * `Date.now()` read at most once per millisecond of event-loop time, as lru-cache's
 * `ttlResolution` does.
 * `Date.now()` costs about 35 ns, a fifth of an in-memory hit; this costs 2 ns.
 *
 * The reading is dropped by a 1 ms timer (unref'd: it never keeps a process alive), after
 * READS_PER_READING uses, or when the global Date is replaced. So within a synchronous stretch
 * of code time advances in steps of at most 1,024 reads, and the one read right after code that
 * blocked the event loop may be as old as the block: an entry can be served fresh for that long
 * past its TTL, and entries written then expire that much early. Pass `clock: { now: Date.now }`
 * for exact readings.
 */
export function coarseNow(): number {
  if (reading !== 0 && --readsLeft > 0 && readingDate === Date) return reading;
  return takeReading();
}

function takeReading(): number {
  reading = Date.now();
  readsLeft = READS_PER_READING;
  readingDate = Date;
  // One pending timer per Date: under fake timers, the fake one is what advancing time fires.
  if (timerDate !== Date) {
    timerDate = Date;
    setTimeout(dropReading, 1).unref?.();
  }
  return reading;
}

function dropReading(): void {
  reading = 0;
  timerDate = undefined;
}

/** The default clock: `coarseNow`. */
export const coarseClock: Clock = { now: coarseNow };
