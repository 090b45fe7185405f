/**
 * Messages between the runner and a worker, awaited by type. Used on both sides of the IPC
 * channel. `next(type, match)` consumes the first queued message of that type that matches,
 * discarding the non-matching ones of that type before it (e.g. sightings of older versions).
 */
export class Inbox {
  #queue = [];
  #waiters = new Set();
  #failure;

  push(message) {
    for (const waiter of this.#waiters) {
      if (message?.type !== waiter.type) continue;
      if (!waiter.match(message)) return; // stale for this waiter: dropped
      this.#waiters.delete(waiter);
      waiter.resolve(message);
      return;
    }
    this.#queue.push(message);
  }

  next(type, match = () => true, timeoutMs = 0) {
    while (true) {
      const position = this.#queue.findIndex((message) => message?.type === type);
      if (position < 0) break;
      const [message] = this.#queue.splice(position, 1);
      if (match(message)) return Promise.resolve(message);
    }
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const waiter = { type, match, resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`no '${type}' message within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      const settle = waiter.resolve;
      waiter.resolve = (message) => {
        clearTimeout(waiter.timer);
        settle(message);
      };
      this.#waiters.add(waiter);
    });
  }

  /** The other side is gone: every pending and future `next` rejects. */
  fail(error) {
    this.#failure = error;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters.clear();
  }
}
