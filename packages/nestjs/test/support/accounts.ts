import { Body, Controller, Get, Inject, Injectable, Module, Param, Post } from '@nestjs/common';
import { cacheKey } from '@org/cache-core';
import { Cached, CacheEvict } from '@org/cache-nestjs';

export interface Account {
  id: string;
  name: string;
  version: number;
}

/** The slow system of record: counts every call, answers after a delay. */
export class AccountsUpstream {
  calls = 0;
  readonly names = new Map<string, string>();

  constructor(private readonly delayMs = 50) {}

  async account(id: string): Promise<Account> {
    this.calls++;
    const version = this.calls;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return { id, name: this.names.get(id) ?? `account ${id}`, version };
  }
}

export const UPSTREAM = 'accounts-upstream';

@Injectable()
export class AccountsService {
  constructor(@Inject(UPSTREAM) private readonly upstream: AccountsUpstream) {}

  @Cached({
    key: (id: string) => cacheKey('accounts', id),
    ttl: '5m',
    tags: (id: string) => [`account:${id}`],
  })
  async account(id: string): Promise<Account> {
    return this.upstream.account(id);
  }

  @CacheEvict({ keys: (id: string) => [cacheKey('accounts', id)] })
  async rename(id: string, name: string): Promise<void> {
    this.upstream.names.set(id, name);
  }

  @CacheEvict({ tags: (id: string) => [`account:${id}`] })
  async touch(_id: string): Promise<void> {}

  @CacheEvict({ keys: (id: string) => [cacheKey('accounts', id)] })
  async failingRename(_id: string): Promise<void> {
    throw new Error('upstream refused the rename');
  }
}

@Controller('accounts')
export class AccountsController {
  constructor(@Inject(AccountsService) private readonly accounts: AccountsService) {}

  @Get(':id')
  account(@Param('id') id: string): Promise<Account> {
    return this.accounts.account(id);
  }

  @Post(':id/rename')
  async rename(@Param('id') id: string, @Body() body: { name: string }): Promise<void> {
    await this.accounts.rename(id, body.name);
  }
}

/** The feature module: controller + service, using whichever default cache the app provides. */
export function accountsModule(upstream: AccountsUpstream) {
  @Module({
    controllers: [AccountsController],
    providers: [AccountsService, { provide: UPSTREAM, useValue: upstream }],
  })
  class AccountsModule {}
  return AccountsModule;
}
