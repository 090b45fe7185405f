import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisBus, redisStore } from '@org/cache-redis';
import { type RedisServer, startRedisServer, uniquePrefix } from '@org/cache-test-support';
import { memoryBusHub } from '@org/cache-testing';
import { tieredStore } from '@org/cache-tiered';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Ownership: tieredStore is given its two tiers and its bus; closing the cache releases all three
// (as it already does the tiers), so a service built the documented way shuts down cleanly.

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(() => server?.stop());

describe('starting a tieredStore', () => {
  it('reports no L1 reset once its Redis bus is connected: nothing was dropped or missed', async () => {
    // l1Resets is what an operator alerts on (bus trouble); a clean start must not count as one.
    const bus = redisBus({ url: server.url, channel: uniquePrefix('start') });
    const store = tieredStore({ l1: memoryStore(), l2: redisStore({ url: server.url }), bus });
    try {
      await bus.ready();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(bus.connected).toBe(true);
      expect(store.stats.bus?.disconnects).toBe(0);
      expect(store.stats.l1Resets).toBe(0);
    } finally {
      await store.disconnect();
      await bus.close();
    }
  });
});

describe('closing a cache on tieredStore', () => {
  it('closes the bus it was given, as it disconnects the two tiers', async () => {
    const bus = memoryBusHub().connect();
    let busClosed = 0;
    const close = bus.close.bind(bus);
    bus.close = async () => {
      busClosed++;
      await close();
    };
    const cache = createCache({
      store: tieredStore({ l1: memoryStore(), l2: memoryStore(), bus }),
      prefix: 'bff',
    });
    await cache.set('k', 'v');
    await cache.close();
    await cache.close();
    expect(busClosed).toBeGreaterThanOrEqual(1);
    await expect(bus.publish('after close')).rejects.toThrow(/closed/);
  });

  it('a service built as documented (bus created inline) exits by itself after cache.close()', async () => {
    const script = fileURLToPath(new URL('./workers/close-and-exit.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], {
      env: { ...process.env, REDIS_URL: server.url, CACHE_PREFIX: uniquePrefix('close') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    try {
      const exit = await new Promise<number | string>((resolve) => {
        const timer = setTimeout(() => resolve('still running 5 s after cache.close()'), 5_000);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve(code ?? String(signal));
        });
      });
      expect(output).toContain('read v');
      expect(output).toContain('closed');
      expect(exit, output).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 15_000);
});
