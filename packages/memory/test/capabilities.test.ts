import { type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';
import { type MemoryStore, memoryStore } from '@org/cache-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';

function capabilitiesOf(store: ReturnType<typeof memoryStore>): Required<StoreCapabilities> {
  return store[storeCapabilities] as Required<StoreCapabilities>;
}

async function scanAll(store: ReturnType<typeof memoryStore>, pattern: string, batchSize?: number) {
  const batches: string[][] = [];
  for await (const batch of capabilitiesOf(store).scan(pattern, { batchSize })) batches.push(batch);
  return batches;
}

async function scanKeys(store: ReturnType<typeof memoryStore>, pattern: string) {
  return (await scanAll(store, pattern)).flat().sort();
}

async function storeWith(keys: string[]) {
  const store = memoryStore();
  for (const key of keys) await store.set(key, key);
  return store;
}

/** Event-loop turns (setImmediate callbacks) other code got while `work` ran, and how long it ran. */
async function turnsDuring(work: () => Promise<unknown>): Promise<{ turns: number; ms: number }> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  running = false;
  return { turns, ms };
}

/**
 * EventLoopTurns hands the loop a turn once 8 ms of walking have passed (checked every few
 * thousand keys), so a walk that lasts 40 ms or more has yielded at least twice, on any machine.
 * How many keys that takes depends on the machine: the walk is repeated on twice the keys until
 * one lasts that long (a fast machine once finished 20,000 keys inside a single slice).
 */
async function turnsOfALongWalk(
  fill: (store: MemoryStore, from: number, to: number) => Promise<void>,
  walk: (store: MemoryStore, keys: number) => Promise<void>,
): Promise<{ turns: number; ms: number; keys: number }> {
  const store = memoryStore({ maxEntries: Number.POSITIVE_INFINITY });
  let keys = 0;
  for (let target = 50_000; target <= 3_200_000; target *= 2) {
    await fill(store, keys, target);
    keys = target;
    const { turns, ms } = await turnsDuring(() => walk(store, keys));
    if (ms >= LONG_WALK_MS) return { turns, ms, keys };
  }
  throw new Error(`a walk over ${keys} keys never lasted ${LONG_WALK_MS} ms`);
}

const LONG_WALK_MS = 40;

describe('memoryStore capabilities', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  // Matching is bounded per key (no RegExp backtracking), and the walk over every key gives the
  // event loop turns: a scan over many keys must not hold other callers until it is done.
  it('scans many keys with a backtracking-prone pattern while the event loop keeps turning', async () => {
    const filler = 'a'.repeat(30);
    const scan = await turnsOfALongWalk(
      (store, from, to) =>
        store.setMany(
          Array.from({ length: to - from }, (_, index) => ({
            key: `redos:${filler}${from + index}`,
            value: 1,
          })),
        ),
      async (store) => {
        expect(await scanAll(store, `${'*a'.repeat(14)}*b`)).toEqual([]);
      },
    );
    expect(scan.turns, `${scan.keys} keys scanned in ${scan.ms.toFixed(0)} ms`).toBeGreaterThanOrEqual(2);
    // keyv's iterator too: its steps are microtasks, which alone would never let I/O in.
    const iteration = await turnsOfALongWalk(
      (store, from, to) =>
        store.setMany(
          Array.from({ length: to - from }, (_, index) => ({ key: `k${from + index}`, value: 1 })),
        ),
      async (store, keys) => {
        let count = 0;
        for await (const _ of store.iterator()) count++;
        expect(count).toBe(keys);
      },
    );
    expect(
      iteration.turns,
      `${iteration.keys} keys iterated in ${iteration.ms.toFixed(0)} ms`,
    ).toBeGreaterThanOrEqual(2);
  });

  it('advertises an in-process, by-reference store named memory', () => {
    const capabilities = capabilitiesOf(memoryStore());
    expect(capabilities).toMatchObject({ name: 'memory', structuredValues: true, inProcess: true });
    for (const operation of ['getSync', 'scan', 'memoryUsage'] as const) {
      expect(typeof capabilities[operation]).toBe('function');
    }
  });

  it('getSync returns the very object that was set, and undefined on a miss or expiry', async () => {
    vi.useFakeTimers();
    const store = memoryStore();
    const { getSync } = capabilitiesOf(store);
    const envelope = Object.freeze({ value: { id: 1 }, expires: null });
    await store.set('a', envelope, 1_000);
    await store.set('zero', 0);
    expect(getSync('a')).toBe(envelope);
    expect(getSync('zero')).toBe(0);
    expect(getSync('missing')).toBeUndefined();
    vi.advanceTimersByTime(1_001);
    expect(getSync('a')).toBeUndefined();
  });

  describe('scan', () => {
    const keys = ['bff:orders:1', 'bff:orders:2', 'bff:orders:10', 'bff:ordersx:1', 'bffx:orders:1', 'bf:1'];

    it('matches * across segments, and the literal prefix isolates neighbours', async () => {
      const store = await storeWith(keys);
      expect(await scanKeys(store, 'bff:*')).toEqual([
        'bff:orders:1',
        'bff:orders:10',
        'bff:orders:2',
        'bff:ordersx:1',
      ]);
      expect(await scanKeys(store, 'bff:orders:*')).toEqual([
        'bff:orders:1',
        'bff:orders:10',
        'bff:orders:2',
      ]);
      expect(await scanKeys(store, '*')).toEqual([...keys].sort());
      expect(await scanKeys(store, '*:1')).toEqual([
        'bf:1',
        'bff:orders:1',
        'bff:ordersx:1',
        'bffx:orders:1',
      ]);
    });

    it('matches ? as one character and [..] as a class', async () => {
      const store = await storeWith(['k:a', 'k:b', 'k:c', 'k:ab']);
      expect(await scanKeys(store, 'k:?')).toEqual(['k:a', 'k:b', 'k:c']);
      expect(await scanKeys(store, 'k:[ab]')).toEqual(['k:a', 'k:b']);
      expect(await scanKeys(store, 'k:[^ab]')).toEqual(['k:c']);
      expect(await scanKeys(store, 'k:[a-b]*')).toEqual(['k:a', 'k:ab', 'k:b']);
    });

    it('treats escaped metacharacters as literal text', async () => {
      const store = await storeWith(['id:*', 'id:x', 'id:a*b', 'id:a?b', 'id:axb', 'id:[1]', 'id:1']);
      expect(await scanKeys(store, 'id:\\*')).toEqual(['id:*']);
      expect(await scanKeys(store, 'id:a\\*b')).toEqual(['id:a*b']);
      expect(await scanKeys(store, 'id:a\\?*')).toEqual(['id:a?b']);
      expect(await scanKeys(store, 'id:\\[1\\]')).toEqual(['id:[1]']);
      expect(await scanKeys(store, 'id:\\*\\*')).toEqual([]);
    });

    it('finds a fully literal pattern by one lookup, and only if it is live', async () => {
      const store = await storeWith(['exact:key', 'exact:key2']);
      expect(await scanAll(store, 'exact:key')).toEqual([['exact:key']]);
      expect(await scanAll(store, 'exact:nope')).toEqual([]);
    });

    it('skips expired keys', async () => {
      vi.useFakeTimers();
      const store = memoryStore();
      await store.set('t:short', 1, 100);
      await store.set('t:long', 2, 10_000);
      await store.set('t:short-literal', 3, 100);
      vi.advanceTimersByTime(101);
      expect(await scanKeys(store, 't:*')).toEqual(['t:long']);
      expect(await scanAll(store, 't:short-literal')).toEqual([]);
    });

    it('yields batches of at most batchSize keys', async () => {
      const store = await storeWith(Array.from({ length: 25 }, (_, index) => `b:${index}`));
      const batches = await scanAll(store, 'b:*', 10);
      expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
      expect(new Set(batches.flat()).size).toBe(25);
    });

    it('tolerates deletes between batches and does not yield deleted keys', async () => {
      const store = await storeWith(Array.from({ length: 30 }, (_, index) => `d:${index}`));
      const seen: string[] = [];
      for await (const batch of capabilitiesOf(store).scan('d:*', { batchSize: 10 })) {
        seen.push(...batch);
        // deleteByPattern deletes each batch as it comes, and a concurrent writer may delete more.
        await store.deleteMany(batch);
        await store.delete('d:29');
      }
      expect(seen).toHaveLength(29);
      expect(seen).not.toContain('d:29');
      expect(store.size()).toBe(0);
    });

    it('refuses an invalid pattern or batch size as a rejection', async () => {
      const store = await storeWith(['a']);
      await expect(scanAll(store, 'a[')).rejects.toMatchObject({ code: 'E_INVALID_PATTERN' });
      await expect(scanAll(store, 'a\\')).rejects.toMatchObject({ code: 'E_INVALID_PATTERN' });
      await expect(scanAll(store, 'a*', 0)).rejects.toMatchObject({ code: 'E_INVALID_OPTION' });
    });
  });

  describe('memoryUsage', () => {
    it('estimates bytes per key, more for bigger values, undefined when missing', async () => {
      const store = memoryStore();
      await store.set('small', 'x');
      await store.set('big', 'x'.repeat(10_000));
      await store.set(
        'object',
        Object.freeze({ list: Array.from({ length: 100 }, (_, index) => ({ index })) }),
      );
      await store.set('number', 0);
      const [small, big, object, number, missing] = await capabilitiesOf(store).memoryUsage([
        'small',
        'big',
        'object',
        'number',
        'missing',
      ]);
      expect(small).toBeGreaterThan(0);
      expect(number).toBeGreaterThan(0);
      expect(big).toBeGreaterThanOrEqual(20_000);
      expect(big).toBeGreaterThan(small as number);
      expect(object).toBeGreaterThan(100 * 8);
      expect(missing).toBeUndefined();
    });

    it('counts the key, so a longer key costs more for the same value', async () => {
      const store = memoryStore();
      await store.set('k', 'v');
      await store.set(`k${'x'.repeat(500)}`, 'v');
      const [short, long] = await capabilitiesOf(store).memoryUsage(['k', `k${'x'.repeat(500)}`]);
      expect((long as number) - (short as number)).toBe(1_000);
    });

    it('follows a mutable object as it grows, and survives cycles', async () => {
      const store = memoryStore();
      const value: { items: string[]; self?: unknown } = { items: [] };
      value.self = value;
      await store.set('grows', value);
      const [before] = await capabilitiesOf(store).memoryUsage(['grows']);
      value.items.push('y'.repeat(1_000));
      const [after] = await capabilitiesOf(store).memoryUsage(['grows']);
      expect(after as number).toBeGreaterThan((before as number) + 1_900);
    });

    it('is undefined for an expired key', async () => {
      vi.useFakeTimers();
      const store = memoryStore();
      await store.set('a', 'A', 10);
      vi.advanceTimersByTime(11);
      expect(await capabilitiesOf(store).memoryUsage(['a'])).toEqual([undefined]);
    });
  });
});
