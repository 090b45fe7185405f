import {
  Controller,
  Get,
  HttpException,
  Param,
  Post,
  Res,
  ServiceUnavailableException,
  UseInterceptors,
} from '@nestjs/common';
import type { Cache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import {
  CacheInterceptor,
  CacheKey,
  CacheModule,
  CacheTags,
  CacheTTL,
  getCacheToken,
} from '@org/cache-nestjs';
import { createTestCache } from '@org/cache-testing';
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, type RunningApp, startApp, waitFor } from './support/app.js';

const calls: Record<string, number> = {};
const count = (name: string) => {
  calls[name] = (calls[name] ?? 0) + 1;
  return calls[name];
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Holds the failing handler until the test has seen every request join its call.
let openGate: () => void = () => {};
let gate: Promise<void> = Promise.resolve();

@Controller()
@UseInterceptors(CacheInterceptor)
class ItemsController {
  @Get('items/:id')
  @CacheTags((context) => [`item:${context.switchToHttp().getRequest().params.id}`])
  async item(@Param('id') id: string) {
    const call = count(`item:${id}`);
    await sleep(50);
    return { id, call };
  }

  @Get('nothing')
  nothing() {
    count('nothing');
    return null;
  }

  @Get('flaky')
  flaky() {
    if (count('flaky') === 1) throw new ServiceUnavailableException('upstream down');
    return { ok: true };
  }

  @Get('always-failing')
  async alwaysFailing() {
    count('always-failing');
    await gate;
    throw new HttpException('bad gateway', 502);
  }

  @Get('soft-failure')
  softFailure(@Res({ passthrough: true }) response: { status(code: number): void }) {
    const call = count('soft-failure');
    if (call === 1) response.status(503);
    return { call };
  }

  @Get('short')
  @CacheTTL('1m')
  @CacheKey('short-lived')
  short() {
    return { call: count('short') };
  }

  @Post('items/:id')
  write(@Param('id') id: string) {
    return { id, call: count(`post:${id}`) };
  }
}

let running: RunningApp | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
  for (const key of Object.keys(calls)) delete calls[key];
});

async function start() {
  running = await startApp({
    imports: [CacheModule.forRoot({ store: memoryStore(), prefix: 'http', logger: false })],
    controllers: [ItemsController],
  });
  return running;
}

describe('CacheInterceptor over real HTTP', () => {
  it('coalesces concurrent GETs into one handler call and marks the others HIT', async () => {
    const { url } = await start();
    const responses = await Promise.all(Array.from({ length: 100 }, () => getJson(`${url}/items/7`)));
    expect(calls['item:7']).toBe(1);
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(responses.map((response) => response.body)).toEqual(Array(100).fill({ id: '7', call: 1 }));
    expect(responses.filter((response) => response.headers.get('x-cache') === 'MISS')).toHaveLength(1);
  });

  it('caches a null response (the handler runs once), unlike @nestjs/cache-manager', async () => {
    const { url } = await start();
    const first = await getJson(`${url}/nothing`);
    const second = await getJson(`${url}/nothing`);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.headers.get('x-cache'), second.headers.get('x-cache')]).toEqual(['MISS', 'HIT']);
    expect(calls.nothing).toBe(1);
  });

  it('never caches a thrown 5xx: the next request runs the handler again', async () => {
    const { url } = await start();
    expect((await getJson(`${url}/flaky`)).status).toBe(503);
    const second = await getJson(`${url}/flaky`);
    expect(second).toMatchObject({ status: 200, body: { ok: true } });
    expect(calls.flaky).toBe(2);
    expect((await getJson(`${url}/flaky`)).headers.get('x-cache')).toBe('HIT');
  });

  it('shares one failing handler call between concurrent requests, and caches nothing', async () => {
    const { url, app } = await start();
    const cache = app.get<Cache>(getCacheToken());
    gate = new Promise((resolve) => {
      openGate = resolve;
    });
    const pending = Promise.all(Array.from({ length: 20 }, () => getJson(`${url}/always-failing`)));
    // A request arriving after the failure would rightly run the handler again (nothing is
    // cached): the handler waits until all 20 have joined the one call.
    await waitFor(() => cache.stats().totals.coalesced === 19, 30_000, '19 requests waiting on the first');
    openGate();
    const responses = await pending;
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(502));
    expect(calls['always-failing']).toBe(1);
    expect(await cache.has('http:/always-failing')).toBe(false);
    expect((await getJson(`${url}/always-failing`)).status).toBe(502);
    expect(calls['always-failing']).toBe(2);
  });

  it('never caches a response whose status the handler set to 5xx', async () => {
    const { url } = await start();
    const first = await getJson(`${url}/soft-failure`);
    expect(first).toMatchObject({ status: 503, body: { call: 1 } });
    const second = await getJson(`${url}/soft-failure`);
    expect(second).toMatchObject({ status: 200, body: { call: 2 } });
    expect((await getJson(`${url}/soft-failure`)).body).toEqual({ call: 2 });
  });

  it('passes other methods through', async () => {
    const { url } = await start();
    await fetch(`${url}/items/1`, { method: 'POST' });
    await fetch(`${url}/items/1`, { method: 'POST' });
    expect(calls['post:1']).toBe(2);
  });

  it('uses @CacheKey and @CacheTags: a tag invalidation makes the next GET run the handler', async () => {
    const { url, app } = await start();
    const cache = app.get<Cache>(getCacheToken());
    await getJson(`${url}/items/9`);
    await getJson(`${url}/short`);
    expect(await cache.has('short-lived')).toBe(true);
    await cache.invalidateTags(['item:9']);
    expect((await getJson(`${url}/items/9`)).body).toEqual({ id: '9', call: 2 });
  });

  it('follows @CacheTTL on the cache clock (a test cache with a manual clock in place of the default)', async () => {
    const { cache, clock } = createTestCache({ prefix: 'http' });
    running = await startApp(
      {
        imports: [CacheModule.forRoot({ store: memoryStore(), prefix: 'http', logger: false })],
        controllers: [ItemsController],
      },
      (builder) => builder.overrideProvider(getCacheToken()).useValue(cache),
    );
    await getJson(`${running.url}/short`);
    clock.advance('59s');
    expect((await getJson(`${running.url}/short`)).body).toEqual({ call: 1 });
    clock.advance('2s');
    expect((await getJson(`${running.url}/short`)).body).toEqual({ call: 2 });
    await running.close();
    await cache.close();
  });

  it('serves a request whose URL is too long for a key, uncached', async () => {
    const { url } = await start();
    const id = 'x'.repeat(3000);
    const responses = [await getJson(`${url}/items/${id}`), await getJson(`${url}/items/${id}`)];
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    expect(calls[`item:${id}`]).toBe(2);
  });
});
