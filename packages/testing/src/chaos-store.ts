import type { CacheStore } from '@org/cache-core';
import { type StoreCapabilities, storeCapabilities } from '@org/cache-core/adapter';
import { ChaosController, type ChaosOperation, type ChaosSettings } from './chaos.js';

export interface ChaosStoreOptions extends ChaosSettings {
  /** Source of randomness in [0, 1); inject one (e.g. `seededRandom(1)`) for repeatable runs. */
  random?: () => number;
}

/** The wrapped store: the same keyv adapter methods the inner store has, plus the controller. */
export type ChaosStore = CacheStore & { readonly chaos: ChaosController };

/**
 * Wraps a keyv store adapter so a test can make it fail, slow down, hang or disconnect, as Redis
 * does in production (bentocache's chaos helpers, FusionCache's ChaosDistributedCache).
 *
 * - Only the methods the inner store has are present, so core detects the same fallbacks.
 * - An injected failure never reaches the inner store.
 * - A hung call is parked; when `chaos.reset()` or `chaos.set({ hang: false })` releases it, it
 *   goes through chaos again under the settings of that moment and, if it passes, performs the
 *   real operation (a paused Redis that resumes runs its queued commands). `chaos.set({
 *   disconnected: true })` releases it into a rejection (a dropped connection fails them).
 * - Capabilities: `name` becomes `chaos(<inner name>)`; `structuredValues` is kept; `scan` and
 *   `memoryUsage` get the same chaos; `inProcess` and `getSync` are dropped (a chaotic store can
 *   hang, so core must apply its deadlines), as is anything else chaos could be bypassed through.
 * - `disconnect()` is forwarded without chaos, so closing a cache never hangs on the wrapper.
 *
 * @example
 * const store = chaosStore(memoryStore(), { random: seededRandom(7) });
 * const cache = createCache({ store, operationTimeout: 50 });
 * store.chaos.set({ hang: true }); // every store call now needs core's deadline
 */
export function chaosStore(store: CacheStore, options: ChaosStoreOptions = {}): ChaosStore {
  const { random, ...settings } = options;
  const chaos = new ChaosController(settings, random);
  const gated =
    <Args extends unknown[], Result>(operation: ChaosOperation, call: (...args: Args) => Result) =>
    async (...args: Args): Promise<Awaited<Result>> => {
      await chaos.enter(operation);
      return await call(...args);
    };

  const wrapper: Record<string | symbol, unknown> = {
    get chaos() {
      return chaos;
    },
    get opts() {
      return store.opts;
    },
    set opts(value: unknown) {
      store.opts = value;
    },
    // Keyv assigns the namespace to its store; the inner store is the one that uses it.
    get namespace() {
      return store.namespace;
    },
    set namespace(value: string | undefined) {
      store.namespace = value;
    },
    on(event: string, listener: (...args: unknown[]) => void) {
      if (typeof store.on === 'function') store.on(event, listener);
      return wrapper;
    },
    get: gated('get', (key: string) => store.get(key)),
    set: gated('set', (key: string, value: unknown, ttl?: number) => store.set(key, value, ttl)),
    delete: gated('delete', (key: string) => store.delete(key)),
    clear: gated('clear', () => store.clear()),
  };
  // Optional methods exist on the wrapper only when the inner store has them: keyv and core both
  // probe for them (`'iterator' in store`) to choose a fallback.
  const { getMany, setMany, has, hasMany, deleteMany, iterator, disconnect } = store;
  if (getMany) wrapper.getMany = gated('getMany', (keys: string[]) => getMany.call(store, keys));
  if (setMany) {
    wrapper.setMany = gated('setMany', (entries: Parameters<typeof setMany>[0]) =>
      setMany.call(store, entries),
    );
  }
  if (has) wrapper.has = gated('has', (key: string) => has.call(store, key));
  if (hasMany) wrapper.hasMany = gated('hasMany', (keys: string[]) => hasMany.call(store, keys));
  if (deleteMany) wrapper.deleteMany = gated('deleteMany', (keys: string[]) => deleteMany.call(store, keys));
  if (iterator) {
    wrapper.iterator = (namespace?: string) =>
      chaos.steps('iterator', () => iterator.call(store, namespace) as AsyncIterable<unknown>);
  }
  if (disconnect) wrapper.disconnect = () => disconnect.call(store);

  const inner = (store as { [storeCapabilities]?: StoreCapabilities })[storeCapabilities];
  wrapper[storeCapabilities] = chaosCapabilities(store, inner, chaos);
  return wrapper as unknown as ChaosStore;
}

function chaosCapabilities(
  store: CacheStore,
  inner: StoreCapabilities | undefined,
  chaos: ChaosController,
): StoreCapabilities {
  const innerName = inner?.name ?? fallbackName(store);
  const capabilities: { -readonly [K in keyof StoreCapabilities]: StoreCapabilities[K] } = {
    name: `chaos(${innerName})`,
  };
  if (inner?.structuredValues !== undefined) capabilities.structuredValues = inner.structuredValues;
  const { scan, memoryUsage } = inner ?? {};
  if (scan) {
    capabilities.scan = (pattern, options) => chaos.steps('scan', () => scan.call(inner, pattern, options));
  }
  if (memoryUsage) {
    capabilities.memoryUsage = async (keys) => {
      await chaos.enter('memoryUsage');
      return memoryUsage.call(inner, keys);
    };
  }
  return Object.freeze(capabilities);
}

function fallbackName(store: object): string {
  const constructorName = (store as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof constructorName === 'string' && constructorName !== '' && constructorName !== 'Object'
    ? constructorName
    : 'store';
}
