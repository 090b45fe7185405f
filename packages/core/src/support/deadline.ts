/**
 * The one deadline helper of the SDK's packages: store adapters, change-event sources, the CLI
 * and the test plumbing bound their waits with these two instead of each writing its own.
 */

/**
 * `promise`, or a rejection with `onTimeout()`'s value if it has not settled `ms` after this call.
 * The timer is cleared when the promise settles and never keeps the process alive on its own
 * (whatever is being waited for holds its own handle, a socket or a child process).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Waits for `promise` to settle, either way, for at most `ms`: true if it settled, false if the
 * time ran out. Never rejects, and leaves no timer behind (a shutdown that gives up is not held
 * up by it).
 */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref?.();
    const settled = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}
