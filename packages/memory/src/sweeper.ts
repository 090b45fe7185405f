import type { CacheableMemory } from 'cacheable';

/**
 * Sweeps expired entries out every `intervalMs` and returns the function that stops it.
 *
 * CacheableMemory has its own `checkInterval`, but its timer holds the store strongly, so a store
 * that is dropped without `disconnect()` would be swept (and kept in memory) forever. This timer
 * holds it through a WeakRef and stops itself once the store is collected; it is unref'ed, so it
 * never keeps the process alive.
 */
export function startSweeper(memory: CacheableMemory, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  const target = new WeakRef(memory);
  const timer = setInterval(() => {
    const alive = target.deref();
    if (alive === undefined) clearInterval(timer);
    else alive.checkExpiration();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
