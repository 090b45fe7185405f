import type { DiscoveryService } from '@nestjs/core';
import { CacheError } from '@org/cache-core';

const CACHE_TOKEN = /^@org\/cache-nestjs:cache:(.*)$/;

/**
 * Two global `forRoot()` with one name would silently leave one of the caches unused (the
 * `@nestjs/cache-manager` trap of nest #13058): refuse to start instead.
 */
export function assertOneGlobalCachePerName(discovery: DiscoveryService): void {
  const seen = new Map<string, number>();
  for (const wrapper of discovery.getProviders()) {
    const match = typeof wrapper.token === 'string' ? CACHE_TOKEN.exec(wrapper.token) : null;
    if (match === null || wrapper.host?.isGlobal !== true) continue;
    const name = match[1] as string;
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  for (const [name, count] of seen) {
    if (count > 1)
      throw new CacheError(
        'E_INVALID_OPTION',
        `${count} global CacheModule.forRoot() register the cache named '${name}': give each its own name, or isGlobal: false`,
      );
  }
}
