// A NestJS application in its own process, to prove that app.close() leaves nothing open: the
// process must then exit by itself (the parent test waits for that, and never sends a signal
// unless the bound passes).
//
// Plain ESM importing the BUILT packages (`pnpm -s build` first), as a service would. Without a
// TypeScript compiler there is no decorator syntax and no emitted design:paramtypes: the
// decorators are applied by hand, and every injection is an explicit @Inject(token), which is
// what the library itself relies on.
//
// Configuration (env): REDIS_URL, PREFIX, STREAM; KEEP_USER_CACHE=1 adds a cache the script built
// itself and hands to the module, which the module must leave open (so the process must NOT exit).
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, Param, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { redisStreamSource } from '@org/cache-cdc';
import { cacheKey, createCache } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { Cached, CacheHealthIndicator, CacheInterceptor, CacheModule } from '@org/cache-nestjs';
import { CacheCdcModule } from '@org/cache-nestjs/cdc';
import { redisStore } from '@org/cache-redis';

const { REDIS_URL: url, PREFIX: prefix, STREAM: stream, KEEP_USER_CACHE: keepUserCache } = process.env;

class AccountsService {
  calls = 0;
  async account(id) {
    this.calls++;
    return { id, calls: this.calls };
  }
}
Injectable()(AccountsService);
Cached({ key: (id) => cacheKey('accounts', id), ttl: '1m' })(
  AccountsService.prototype,
  'account',
  Object.getOwnPropertyDescriptor(AccountsService.prototype, 'account'),
);

class AccountsController {
  constructor(accounts, health) {
    this.accounts = accounts;
    this.health = health;
  }
  account(id) {
    return this.accounts.account(id);
  }
  async cacheHealth() {
    return this.health.isHealthy('cache');
  }
}
Controller()(AccountsController);
Inject(AccountsService)(AccountsController, undefined, 0);
Inject(CacheHealthIndicator)(AccountsController, undefined, 1);
const method = (name) => [
  AccountsController.prototype,
  name,
  Object.getOwnPropertyDescriptor(AccountsController.prototype, name),
];
Get('accounts/:id')(...method('account'));
UseInterceptors(CacheInterceptor)(...method('account'));
Param('id')(AccountsController.prototype, 'account', 0);
Get('health')(...method('cacheHealth'));

const userCache = keepUserCache
  ? createCache({ store: redisStore({ url }), prefix: `${prefix}-user` })
  : undefined;

class AppModule {}
Module({
  imports: [
    TerminusModule,
    CacheModule.forRoot({ store: redisStore({ url }), prefix }),
    CacheModule.forRoot({ name: 'local', store: memoryStore(), prefix: `${prefix}-local` }),
    ...(userCache ? [CacheModule.forRootAsync({ name: 'user', useFactory: () => userCache })] : []),
    CacheCdcModule.forRootAsync({
      useFactory: () => ({
        rules: {
          Account: {
            record: (id) => ({ keys: [cacheKey('accounts', id)] }),
            all: { patterns: ['accounts:*'] },
          },
        },
        sources: [
          redisStreamSource({
            url,
            stream,
            group: 'close-test',
            consumer: `c-${process.pid}`,
            block: '200ms',
          }),
        ],
      }),
    }),
  ],
  controllers: [AccountsController],
  providers: [AccountsService, CacheHealthIndicator],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
const first = await (await fetch(`${base}/accounts/1`)).json();
const second = await (await fetch(`${base}/accounts/1`)).json();
const health = await (await fetch(`${base}/health`)).json();
if (first.calls !== 1 || second.calls !== 1 || health.cache?.cacheStatus !== 'up') {
  console.error('unexpected answers', JSON.stringify({ first, second, health }));
  process.exitCode = 1;
}
await app.close();
console.log('closed');
// Nothing else: the process ends when the event loop is empty, or the parent's bound says it did not.
