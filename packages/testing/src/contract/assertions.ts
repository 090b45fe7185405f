import assert from 'node:assert/strict';
import { type CacheErrorCode, type CacheStore, isCacheError } from '@org/cache-core';
import { capabilitiesOf, type StoreCapabilities, syncUnknown } from '@org/cache-core/adapter';

export { capabilitiesOf };

/** The capability method a flag promises; fails the test when the store does not have it. */
export function requireCapability<Name extends 'getSync' | 'scan' | 'memoryUsage'>(
  store: CacheStore,
  name: Name,
): NonNullable<StoreCapabilities[Name]> {
  const method = capabilitiesOf(store)?.[name];
  assert.equal(
    typeof method,
    'function',
    `the subject declares ${name}, but [storeCapabilities].${name} is missing`,
  );
  return method as NonNullable<StoreCapabilities[Name]>;
}

/**
 * Asserts that `call` reports misuse as a rejected promise, never as a synchronous throw, and that
 * the rejection is a CacheError with `code`.
 */
export async function assertRejectsWith(
  call: () => Promise<unknown>,
  code: CacheErrorCode,
  label = 'the call',
): Promise<void> {
  let promise: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    promise = call();
  }, `${label}: async methods must reject, not throw synchronously`);
  await assert.rejects(
    promise as Promise<unknown>,
    (error: unknown) => {
      assert.ok(
        isCacheError(error, code),
        `${label}: expected a CacheError ${code}, got ${describeError(error)}`,
      );
      return true;
    },
    `${label}: expected a rejection with ${code}`,
  );
}

export function describeError(error: unknown): string {
  if (error instanceof Error)
    return `${error.name}${'code' in error ? ` ${String(error.code)}` : ''}: ${error.message}`;
  return String(error);
}

/** Every key a glob scan yields, sorted and deduplicated (a Redis SCAN may repeat keys). */
export async function collect(batches: AsyncIterable<unknown>): Promise<string[]> {
  const keys = new Set<string>();
  for await (const batch of batches) {
    assert.ok(Array.isArray(batch), 'a scan yields arrays of keys');
    for (const key of batch) {
      assert.equal(typeof key, 'string', 'a scan yields string keys');
      keys.add(key as string);
    }
  }
  return [...keys].sort();
}

/** Keys from `cache.scan()`, which yields one key at a time. */
export async function collectKeys(keys: AsyncIterable<string>): Promise<string[]> {
  const seen: string[] = [];
  for await (const key of keys) seen.push(key);
  return seen.sort();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What a synchronous read may answer for an absent key: `undefined`, or `syncUnknown` from a
 * store that can only tell asynchronously (a two-tier store whose memory tier lacks the key).
 */
export function assertAbsentSync(value: unknown): void {
  assert.ok(value === undefined || value === syncUnknown, `expected an absent key, got ${String(value)}`);
}

/**
 * Polls `check` until it passes (resolves) or `timeoutMs` runs out (rejects with its last
 * error): for work a test started in the background, such as a refresh. A hang guard, not a
 * performance claim.
 */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    try {
      await check();
      return;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(10);
    }
  }
}
