import { backoffDelay, type StoreLeases, settleWithin, withDeadline } from '@org/cache-core/adapter';
import type { RedisConnection } from './connection.js';
import type { LeaseKeys } from './lease-keys.js';
import { scanKeys } from './scan.js';
import { acquireScript, commitScript, releaseScript } from './scripts.js';
import type { Subscriptions } from './subscriptions.js';

const POLL_START_MS = 10;
const POLL_MAX_MS = 100;

/**
 * Cross-process fetch leases on Redis. A lease is `SET <lease key> <token>|<entry's state> NX PX
 * <ttl>` (see scripts.ts); the holder commits through a Lua script that writes only while the
 * lease still holds its token and the entry has not been written since; the store's delete
 * deletes the lease (revoking it). Waiters are woken by a pub/sub message on release and, in
 * case that message is missed (subscriber reconnecting), poll with back-off: waking is fast when
 * pub/sub works and bounded when it does not.
 */
export class RedisLeases implements StoreLeases {
  constructor(
    private readonly connection: RedisConnection,
    private readonly keys: LeaseKeys,
    private readonly subscriptions: Subscriptions,
    private readonly scanCount: number,
  ) {}

  async acquire(key: string, token: string, ttlMs: number): Promise<boolean> {
    const leaseKey = this.leaseKeyOf(key);
    const ttl = String(Math.max(1, Math.ceil(ttlMs)));
    return (await acquireScript.run<string | null>(this.connection, [key, leaseKey], [token, ttl])) === 'OK';
  }

  async commit(key: string, token: string, value: unknown, ttlMs: number | undefined): Promise<boolean> {
    const ttl = ttlMs === undefined ? '' : String(Math.max(1, Math.ceil(ttlMs)));
    const written = await commitScript.run<number>(
      this.connection,
      [key, this.leaseKeyOf(key)],
      [token, typeof value === 'string' ? value : JSON.stringify(value), ttl, this.keys.channelOf(key)],
    );
    return written === 1;
  }

  async release(key: string, token: string): Promise<void> {
    await releaseScript.run(this.connection, [key, this.leaseKeyOf(key)], [token, this.keys.channelOf(key)]);
  }

  async waitForRelease(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const leaseKey = this.leaseKeyOf(key);
    const deadline = performance.now() + timeoutMs;
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const unsubscribe = this.subscriptions.onMessage(this.keys.channelOf(key), (message) => {
      if (message === key) wake();
    });
    // A closing cache stops waiting at once: no timer of ours may outlive it.
    signal?.addEventListener('abort', wake, { once: true });
    try {
      for (let poll = 0; performance.now() < deadline && !signal?.aborted; poll++) {
        // Bounded too: a server that stops answering must not hold the waiter past its deadline.
        // No answer, or an error, reads as "still held" (1): the loop's deadline decides.
        const exists = await withDeadline(
          this.connection.command<number>(['EXISTS', leaseKey], leaseKey, true),
          deadline - performance.now(),
          () => new Error('no answer'),
        ).catch(() => 1);
        if (exists === 0) return;
        const remaining = deadline - performance.now();
        // Woken by the release message, or the next poll is due.
        if (await settleWithin(woken, Math.min(backoffDelay(poll, POLL_START_MS, POLL_MAX_MS), remaining)))
          return;
      }
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', wake);
    }
  }

  async revokeMatching(entryPattern: string): Promise<void> {
    const pattern = this.keys.patternOf(entryPattern);
    if (pattern === undefined) return;
    for await (const batch of scanKeys(this.connection, pattern, this.scanCount)) {
      await Promise.all(batch.map((leaseKey) => this.connection.command(['DEL', leaseKey], leaseKey)));
    }
  }

  private leaseKeyOf(key: string): string {
    const leaseKey = this.keys.of(key);
    if (leaseKey === undefined) throw new Error(`no lease for key ${key}: not a cache entry key`);
    return leaseKey;
  }
}
