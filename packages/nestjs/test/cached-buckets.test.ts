import { Controller, Get, Inject, Injectable, Module, Param } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Cache, type DomainOf, defineDomain, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { Cached, CacheModule, getCacheToken, getDomainToken } from '@org/cache-nestjs';
import { manualClock } from '@org/cache-testing';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Account, AccountsUpstream, UPSTREAM } from './support/accounts.js';
import { getJson, type RunningApp, startApp } from './support/app.js';

/**
 * `@Cached({ domain, bucket, id })`: the method's result goes through the bucket's getOrSet, so
 * the bucket's strategy, schema and metrics apply, not the cache's. Real Nest applications over
 * real HTTP; the clock is a manual one, so "still fresh after 2 minutes" needs no waiting.
 */
const accountsDomain = defineDomain('accounts', {
  buckets: {
    // Outlives the cache-level ttl('1m') below: what proves the bucket's strategy is the one used.
    byId: {
      schema: z.object({ id: z.string(), name: z.string(), version: z.number() }),
      strategy: ttl('10m'),
    },
  },
});

/** Adds a field the bucket's schema strips: what proves the schema ran. */
class LeakyUpstream extends AccountsUpstream {
  override async account(id: string): Promise<Account> {
    return { ...(await super.account(id)), internal: 'not for clients' } as Account;
  }
}

@Injectable()
class AccountsService {
  constructor(@Inject(UPSTREAM) private readonly upstream: AccountsUpstream) {}

  @Cached({
    domain: accountsDomain,
    bucket: 'byId',
    id: (id: string) => id,
    tags: (id: string) => [`account:${id}`],
  })
  async account(id: string): Promise<Account> {
    return this.upstream.account(id);
  }
}

@Controller('accounts')
class AccountsController {
  constructor(@Inject(AccountsService) private readonly accounts: AccountsService) {}

  @Get(':id')
  account(@Param('id') id: string): Promise<Account> {
    return this.accounts.account(id);
  }
}

let running: RunningApp | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function start() {
  const upstream = new LeakyUpstream();
  const clock = manualClock(Date.UTC(2026, 0, 1));
  @Module({
    imports: [CacheModule.forFeature([accountsDomain])],
    controllers: [AccountsController],
    providers: [AccountsService, { provide: UPSTREAM, useValue: upstream }],
  })
  class AccountsModule {}
  running = await startApp({
    imports: [
      CacheModule.forRoot({
        store: memoryStore(),
        prefix: 'buckets-test',
        strategy: ttl('1m'),
        clock,
        logger: false,
      }),
      AccountsModule,
    ],
  });
  const domain = running.app.get<DomainOf<typeof accountsDomain>>(getDomainToken(accountsDomain));
  return { upstream, clock, url: running.url, app: running.app, domain };
}

describe('@Cached({ domain, bucket, id }) over real HTTP', () => {
  it('100 concurrent requests make 1 upstream call, stored under the bucket key, through its schema', async () => {
    const { upstream, url, app, domain } = await start();
    const responses = await Promise.all(Array.from({ length: 100 }, () => getJson(`${url}/accounts/001`)));
    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(upstream.calls).toBe(1);
    for (const response of responses)
      expect(response.body).toEqual({ id: '001', name: 'account 001', version: 1 });

    const cache = app.get<Cache>(getCacheToken());
    expect(await cache.get('accounts:byId:001')).toEqual({ id: '001', name: 'account 001', version: 1 });
    // Counted by the bucket: 100 lookups; every miss but the one that fetched joined that fetch
    // (on a loaded machine the last requests can arrive after it landed: hits, not misses).
    const { hits, misses, coalesced } = domain.stats().metrics.byId ?? { hits: 0, misses: 0, coalesced: 0 };
    expect(hits + misses).toBe(100);
    expect(misses).toBeGreaterThan(0);
    expect(coalesced).toBe(misses - 1);
  });

  it("uses the bucket's strategy: fresh past the cache's 1 m ttl, refetched past the bucket's 10 m", async () => {
    const { upstream, clock, url, domain } = await start();
    await getJson(`${url}/accounts/002`);
    clock.advance('2m');
    expect((await getJson(`${url}/accounts/002`)).body).toMatchObject({ version: 1 });
    expect(upstream.calls).toBe(1);
    expect(domain.stats().metrics.byId).toMatchObject({ hits: 1, misses: 1 });

    clock.advance('9m');
    expect((await getJson(`${url}/accounts/002`)).body).toMatchObject({ version: 2 });
    expect(upstream.calls).toBe(2);
  });

  it("takes the decorator's tags: invalidating one drops the entry", async () => {
    const { upstream, url, domain } = await start();
    await getJson(`${url}/accounts/003`);
    await domain.invalidateTags(['account:003']);
    expect((await getJson(`${url}/accounts/003`)).body).toMatchObject({ version: 2 });
    expect(upstream.calls).toBe(2);
  });
});

describe('@Cached({ domain, bucket, id }) refused at start-up', () => {
  async function listen(
    imports: Parameters<typeof Test.createTestingModule>[0]['imports'],
    providers: never[],
  ) {
    const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await app.close();
    }
  }

  it('names the method and the bucket when the domain has no such bucket', async () => {
    @Injectable()
    class Typo {
      @Cached({ domain: 'accounts', bucket: 'byID', id: (id: string) => id })
      async load(id: string): Promise<string> {
        return id;
      }
    }
    const error = await listen(
      [
        CacheModule.forRoot({ store: memoryStore(), logger: false }),
        CacheModule.forFeature([accountsDomain]),
      ],
      [Typo as never],
    );
    expect(error).toMatchObject({
      code: 'E_INVALID_OPTION',
      message:
        "Typo.load uses bucket 'byID' of domain 'accounts', which has none by that name (its buckets: byId)",
    });
  });

  it('names the domain and the cache when no forFeature registers the domain there', async () => {
    @Injectable()
    class Unregistered {
      @Cached({ domain: accountsDomain, bucket: 'byId', id: (id: string) => id, cache: 'archive' })
      async load(id: string): Promise<string> {
        return id;
      }
    }
    const error = await listen(
      [
        CacheModule.forRoot({ store: memoryStore(), logger: false }),
        CacheModule.forRoot({ name: 'archive', store: memoryStore(), logger: false }),
        CacheModule.forFeature([accountsDomain]), // on the default cache, not on 'archive'
      ],
      [Unregistered as never],
    );
    expect(error).toMatchObject({
      code: 'E_INVALID_OPTION',
      message: expect.stringContaining(
        "Unregistered.load uses domain 'accounts' on the cache named 'archive', but no CacheModule.forFeature([accounts], 'archive') registers it",
      ),
    });
  });

  it('refuses a key together with a bucket, and a bucket without an id, when the class is declared', () => {
    expect(() => Cached({ key: () => 'k', domain: accountsDomain, bucket: 'byId' } as never)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringContaining('not both') }),
    );
    expect(() => Cached({ domain: accountsDomain, bucket: 'byId' } as never)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringContaining('needs id') }),
    );
    expect(() => Cached({ domain: accountsDomain, id: (id: string) => id } as never)).toThrow(
      expect.objectContaining({ code: 'E_INVALID_OPTION', message: expect.stringContaining('needs bucket') }),
    );
  });
});
