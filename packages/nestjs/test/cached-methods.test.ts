import { Controller, Get, Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Cache, cacheKey } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { Cached, CacheModule, getCacheToken } from '@org/cache-nestjs';
import { afterEach, describe, expect, it } from 'vitest';
import { AccountsService, AccountsUpstream, accountsModule } from './support/accounts.js';
import { getJson, post, type RunningApp, startApp } from './support/app.js';

let running: RunningApp | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start(upstream = new AccountsUpstream()) {
  running = await startApp({
    imports: [
      CacheModule.forRoot({ store: memoryStore(), prefix: 'accounts-test' }),
      accountsModule(upstream),
    ],
  });
  return { upstream, url: running.url, app: running.app };
}

describe('@Cached over real HTTP (memory store)', () => {
  it('100 concurrent requests for one account make 1 upstream call', async () => {
    const { upstream, url } = await start();
    const responses = await Promise.all(Array.from({ length: 100 }, () => getJson(`${url}/accounts/001`)));
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(new Set(responses.map((response) => JSON.stringify(response.body))).size).toBe(1);
    expect(responses[0]?.body).toEqual({ id: '001', name: 'account 001', version: 1 });
    expect(upstream.calls).toBe(1);
    // and the value stays cached: one more request is answered without the upstream
    expect((await getJson(`${url}/accounts/001`)).body).toMatchObject({ version: 1 });
    expect(upstream.calls).toBe(1);
  });

  it('@CacheEvict drops the key after the method succeeds, so the next read refetches', async () => {
    const { upstream, url } = await start();
    await getJson(`${url}/accounts/001`);
    expect(await post(`${url}/accounts/001/rename`, { name: 'Acme' })).toBe(201);
    const after = await getJson(`${url}/accounts/001`);
    expect(after.body).toEqual({ id: '001', name: 'Acme', version: 2 });
    expect(upstream.calls).toBe(2);
  });

  it('@CacheEvict by tags invalidates the tagged entries', async () => {
    const { upstream, app } = await start();
    const service = app.get(AccountsService);
    await service.account('002');
    await service.account('002');
    expect(upstream.calls).toBe(1);
    await service.touch('002');
    expect(await service.account('002')).toMatchObject({ version: 2 });
  });

  it('@CacheEvict evicts nothing when the method fails, and the failure reaches the caller', async () => {
    const { upstream, app } = await start();
    const service = app.get(AccountsService);
    await service.account('003');
    await expect(service.failingRename('003')).rejects.toThrow('upstream refused the rename');
    expect(await service.account('003')).toMatchObject({ version: 1 });
    expect(upstream.calls).toBe(1);
  });

  it('a @Cached result lives in the module cache, under the key the decorator gives', async () => {
    const { app } = await start();
    await app.get(AccountsService).account('004');
    const cache = app.get<Cache>(getCacheToken());
    expect(await cache.get(cacheKey('accounts', '004'))).toMatchObject({ id: '004', version: 1 });
  });

  it('a key function that throws rejects that call only', async () => {
    @Injectable()
    class Strict {
      @Cached({ key: (id: string) => cacheKey('strict', id) })
      async load(id: string): Promise<string> {
        return id;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ store: memoryStore(), logger: false })],
      providers: [Strict],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const strict = app.get(Strict);
      await expect(strict.load('')).rejects.toMatchObject({ code: 'E_INVALID_KEY' });
      expect(await strict.load('ok')).toBe('ok');
    } finally {
      await app.close();
    }
  });

  it('is wired before other providers run their onModuleInit (a warm-up already goes through the cache)', async () => {
    @Injectable()
    class Warm implements OnModuleInit {
      loads = 0;
      @Cached({ key: (id: string) => cacheKey('warm', id) })
      async load(id: string): Promise<string> {
        this.loads++;
        return id;
      }
      async onModuleInit() {
        await this.load('a');
        await this.load('a');
      }
    }
    @Module({ providers: [Warm], exports: [Warm] })
    class WarmModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ store: memoryStore(), logger: false }), WarmModule],
    }).compile();
    const app = await moduleRef.createNestApplication({ logger: false }).init();
    expect(app.get(Warm).loads).toBe(1);
    await app.close();
  });

  it('refuses @Cached on a controller, where Nest would route around the wrapper', async () => {
    @Controller()
    class Wrong {
      @Cached({ key: () => 'k' })
      @Get()
      async get(): Promise<number> {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ store: memoryStore(), logger: false })],
      controllers: [Wrong],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining('Wrong.get: @Cached/@CacheEvict work on providers'),
    });
    await app.close();
  });

  it('refuses to start when @Cached names a cache no module provides', async () => {
    @Injectable()
    class Misnamed {
      constructor(@Inject(getCacheToken()) readonly cache: Cache) {}
      @Cached({ key: () => 'k', cache: 'nowhere' })
      async load(): Promise<number> {
        return 1;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.forRoot({ store: memoryStore(), logger: false })],
      providers: [Misnamed],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining("Misnamed.load uses the cache named 'nowhere'"),
    });
    await app.close();
  });
});
