import { setTimeout as sleep } from 'node:timers/promises';

/** Waits like a network round trip would; stops early (rejecting) when the caller gives up. */
export async function simulateLatency(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) {
    signal?.throwIfAborted();
    return;
  }
  await sleep(ms, undefined, signal ? { signal } : undefined);
}
