import { Backoff, backoffDelay, settleWithin, withDeadline } from '@org/cache-core/adapter';
import { describe, expect, it } from 'vitest';

const never = new Promise<never>(() => {});

describe('withDeadline', () => {
  it('passes the value or the rejection of a promise that settles in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 10_000, () => new Error('late'))).resolves.toBe(7);
    const failure = new Error('boom');
    await expect(withDeadline(Promise.reject(failure), 10_000, () => new Error('late'))).rejects.toBe(
      failure,
    );
  });

  it("rejects with onTimeout()'s value when the promise does not settle in time", async () => {
    const late = new Error('redis connect did not answer');
    await expect(withDeadline(never, 5, () => late)).rejects.toBe(late);
  });
});

describe('settleWithin', () => {
  it('answers true once the promise settles, either way, and never rejects', async () => {
    await expect(settleWithin(Promise.resolve('x'), 10_000)).resolves.toBe(true);
    await expect(settleWithin(Promise.reject(new Error('no')), 10_000)).resolves.toBe(true);
  });

  it('answers false when the time runs out first', async () => {
    await expect(settleWithin(never, 5)).resolves.toBe(false);
  });
});

describe('back-off', () => {
  it('doubles from initialMs up to maxMs', () => {
    expect([0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 100, 1_000))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    expect(backoffDelay(1_000, 100, 1_000)).toBe(1_000);
    expect(backoffDelay(3, 0, 1_000)).toBe(0);
  });

  it('counts attempts, resets, and without jitter follows backoffDelay', () => {
    const backoff = new Backoff({ initialMs: 50, maxMs: 300, jitter: 0 });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([50, 100, 200, 300]);
    expect(backoff.attempt).toBe(4);
    backoff.reset();
    expect(backoff.attempt).toBe(0);
    expect(backoff.next()).toBe(50);
  });

  it('spreads each delay by at most the jitter fraction, both ways', () => {
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 1_000, jitter: 0.2 });
    const delays = Array.from({ length: 2_000 }, () => backoff.next());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1_200);
    // Spread, not a constant: 2,000 draws all landing within 10 ms of each other would mean no jitter.
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(10);
  });

  it('refuses settings that cannot make a back-off', () => {
    expect(() => new Backoff({ initialMs: -1, maxMs: 10 })).toThrow(/E_INVALID_OPTION|initialMs/);
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow(/maxMs/);
    expect(() => new Backoff({ initialMs: 1, maxMs: Number.POSITIVE_INFINITY })).toThrow(/finite/);
    expect(() => new Backoff({ initialMs: 1, maxMs: 10, jitter: 1 })).toThrow(/jitter/);
  });
});
