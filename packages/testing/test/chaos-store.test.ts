import { ChaosError, chaosStore, seededRandom } from '@org/cache-testing';
import { Keyv } from 'keyv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mapAdapter } from './support/map-adapter.js';

const settledWithin = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
  const settled = promise.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);
};

/** Yields a fixed sequence, then fails the test if asked for more. */
const sequence =
  (...values: number[]) =>
  () => {
    const next = values.shift();
    if (next === undefined) throw new Error('random() called more often than expected');
    return next;
  };

afterEach(() => {
  vi.useRealTimers();
});

describe('chaosStore', () => {
  it('passes every call through while healthy, and counts calls', async () => {
    const inner = mapAdapter('full');
    const store = chaosStore(inner);
    await store.set('k', 'v');
    expect(await store.get('k')).toBe('v');
    expect(await store.getMany?.(['k', 'missing'])).toEqual(['v', undefined]);
    expect(await store.has?.('k')).toBe(true);
    expect(await store.delete('k')).toBe(true);
    expect(inner.entries.size).toBe(0);
    expect(store.chaos.calls).toBe(5);
    expect(store.chaos.failures).toBe(0);
  });

  it('failureRate 1 rejects every operation with an error naming it, without touching the inner store', async () => {
    const inner = mapAdapter('full');
    await inner.set('k', 'v');
    const store = chaosStore(inner, { failureRate: 1 });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['get', () => store.get('k')],
      ['set', () => store.set('k', 'changed')],
      ['delete', () => store.delete('k')],
      ['clear', () => store.clear()],
      ['getMany', () => store.getMany?.(['k']) as Promise<unknown>],
      ['setMany', () => store.setMany?.([{ key: 'k', value: 'changed' }]) as Promise<unknown>],
      ['deleteMany', () => store.deleteMany?.(['k']) as Promise<unknown>],
      ['has', () => store.has?.('k') as Promise<unknown>],
    ];
    for (const [operation, call] of calls) {
      const error = await call().catch((reason: unknown) => reason);
      expect(error, operation).toBeInstanceOf(ChaosError);
      expect((error as ChaosError).operation).toBe(operation);
      expect((error as Error).message).toContain(operation);
    }
    expect(inner.entries.get('k')?.value).toBe('v');
    expect(store.chaos.failures).toBe(8);
  });

  it('failureRate 0 never fails and never draws a random number', async () => {
    const store = chaosStore(mapAdapter('full'), { failureRate: 0, random: sequence() });
    for (let index = 0; index < 50; index++) await store.set(`k${index}`, index);
    expect(store.chaos.failures).toBe(0);
  });

  it('with a failure rate, the injected random decides: a draw below the rate fails', async () => {
    const store = chaosStore(mapAdapter('full'), { failureRate: 0.5, random: sequence(0.1, 0.9, 0.49, 0.5) });
    const outcomes = [];
    for (let index = 0; index < 4; index++) {
      outcomes.push(
        await store.get('k').then(
          () => 'ok',
          () => 'failed',
        ),
      );
    }
    expect(outcomes).toEqual(['failed', 'ok', 'failed', 'ok']);
    expect(store.chaos.failures).toBe(2);
  });

  it('seededRandom makes runs repeatable', async () => {
    const run = async (seed: number) => {
      const store = chaosStore(mapAdapter('full'), { failureRate: 0.3, random: seededRandom(seed) });
      const outcomes: boolean[] = [];
      for (let index = 0; index < 40; index++)
        outcomes.push(
          await store.get('k').then(
            () => true,
            () => false,
          ),
        );
      return outcomes;
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
    expect(first.filter((ok) => !ok).length).toBeGreaterThan(0);
    expect(first.filter((ok) => ok).length).toBeGreaterThan(0);
  });

  it('latency delays each call by the fixed amount', async () => {
    vi.useFakeTimers();
    const store = chaosStore(mapAdapter('full'), { latencyMs: 50 });
    let done = false;
    const call = store.set('k', 'v').then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(49);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await call;
    expect(done).toBe(true);
  });

  it('a latency range draws the delay from the injected random', async () => {
    vi.useFakeTimers();
    const store = chaosStore(mapAdapter('full'), { latencyMs: [10, 30], random: sequence(0.5) });
    let done = false;
    const call = store.get('k').then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(19);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await call;
    expect(done).toBe(true);
  });

  it('hang parks calls until reset() releases them; they then perform the real operation', async () => {
    const inner = mapAdapter('full');
    const store = chaosStore(inner, { hang: true });
    const write = store.set('k', 'v');
    expect(await settledWithin(write, 30)).toBe(false);
    expect(inner.entries.has('k')).toBe(false);
    expect(store.chaos.pending).toBe(1);
    expect(store.chaos.hangs).toBe(1);
    store.chaos.reset();
    await write;
    expect(await store.get('k')).toBe('v');
    expect(store.chaos.pending).toBe(0);
  });

  it('set({ hang: false }) releases hung calls; set({ disconnected: true }) rejects them', async () => {
    const store = chaosStore(mapAdapter('full'), { hang: true });
    const first = store.get('k');
    store.chaos.set({ failureRate: 0 });
    expect(await settledWithin(first, 20)).toBe(false);
    store.chaos.set({ hang: false });
    expect(await first).toBeUndefined();

    store.chaos.set({ hang: true });
    const second = store.get('k');
    expect(await settledWithin(second, 20)).toBe(false);
    store.chaos.set({ disconnected: true });
    await expect(second).rejects.toMatchObject({
      name: 'ChaosError',
      reason: 'disconnected',
      operation: 'get',
    });
  });

  it('disconnected rejects at once; reconnected, the store works again', async () => {
    const store = chaosStore(mapAdapter('full'), { disconnected: true });
    await expect(store.set('k', 'v')).rejects.toThrow(/set failed: disconnected/);
    store.chaos.set({ disconnected: false });
    await store.set('k', 'v');
    expect(await store.get('k')).toBe('v');
    expect(store.chaos.failures).toBe(1);
  });

  it('operations restricts chaos to the listed operations', async () => {
    const store = chaosStore(mapAdapter('full'), { failureRate: 1, operations: ['set', 'setMany'] });
    await expect(store.set('k', 'v')).rejects.toBeInstanceOf(ChaosError);
    expect(await store.get('k')).toBeUndefined();
    store.chaos.set({ operations: undefined });
    await expect(store.get('k')).rejects.toBeInstanceOf(ChaosError);
  });

  it('reset() restores a healthy store but keeps counters until resetCounters()', async () => {
    const store = chaosStore(mapAdapter('full'), { failureRate: 1, latencyMs: 5, operations: ['get'] });
    await expect(store.get('k')).rejects.toBeInstanceOf(ChaosError);
    store.chaos.reset();
    expect(store.chaos.current).toEqual({ failureRate: 0, latencyMs: 0, hang: false, disconnected: false });
    await store.get('k');
    expect([store.chaos.calls, store.chaos.failures]).toEqual([2, 1]);
    store.chaos.resetCounters();
    expect([store.chaos.calls, store.chaos.failures, store.chaos.hangs]).toEqual([0, 0, 0]);
  });

  it('refuses settings that make no sense', () => {
    const store = chaosStore(mapAdapter('full'));
    for (const bad of [
      { failureRate: 1.5 },
      { failureRate: -0.1 },
      { latencyMs: -1 },
      { latencyMs: [30, 10] as const },
    ]) {
      expect(() => store.chaos.set(bad)).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    }
    expect(() => chaosStore(mapAdapter('full'), { failureRate: 2 })).toThrow(/failureRate/);
  });

  it('forwards namespace, opts and events to the inner store, and works inside Keyv', async () => {
    const inner = mapAdapter('iterable');
    const store = chaosStore(inner);
    store.namespace = 'ns';
    expect(inner.namespace).toBe('ns');
    expect(store.opts).toBe(inner.opts);
    const listener = () => {};
    const on = vi.spyOn(inner, 'on');
    expect(store.on('error', listener)).toBe(store);
    expect(on).toHaveBeenCalledWith('error', listener);

    const keyv = new Keyv({ store });
    await keyv.set('k', 0);
    expect(await keyv.get('k')).toBe(0);
    store.chaos.set({ failureRate: 1 });
    const quiet = new Keyv({ store, throwOnErrors: true });
    quiet.on('error', () => {});
    await expect(quiet.get('k')).rejects.toBeInstanceOf(ChaosError);
  });
});
