import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
  Optional,
  StreamableFile,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { type Cache, type Duration, isCacheError } from '@org/cache-core';
import { lastValueFrom, type Observable, of } from 'rxjs';
import { getCacheToken } from '../tokens.js';
import {
  CACHE_KEY_METADATA,
  CACHE_TAGS_METADATA,
  CACHE_TTL_METADATA,
  type CacheKeyOption,
  type CacheTagsOption,
} from './decorators.js';

/**
 * A response the handler produced but that must not be cached (an error status, a stream): the
 * caller that ran the handler answers with it; callers that waited on it answer with it too.
 */
class UncachedResponse extends Error {
  constructor(
    readonly value: unknown,
    readonly statusCode: number | undefined,
  ) {
    super('response not cached');
  }
}

/**
 * Caches GET responses in the default cache, as `@nestjs/cache-manager`'s interceptor does, but
 * through `getOrSet`: concurrent requests for one key run the handler once (across processes on
 * Redis), a handler that throws or answers with a status of 400 or more is never cached, and a
 * `null` response is cached like any value. Sets `X-Cache: HIT` / `MISS`.
 *
 * @example
 * @UseInterceptors(CacheInterceptor)
 * @CacheTTL('30s') @CacheTags((context) => [`account:${context.switchToHttp().getRequest().params.id}`])
 * @Get('accounts/:id') account(@Param('id') id: string) { ... }
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  protected allowedMethods = ['GET'];

  constructor(
    @Inject(getCacheToken()) protected readonly cache: Cache,
    @Inject(Reflector) protected readonly reflector: Reflector,
    @Optional() @Inject(HttpAdapterHost) protected readonly adapterHost?: HttpAdapterHost,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const key = this.trackBy(context);
    if (key === undefined) return next.handle();
    const targets = [context.getHandler(), context.getClass()];
    const ttl = this.reflector.getAllAndOverride<Duration | undefined>(CACHE_TTL_METADATA, targets);
    const tagsOption = this.reflector.getAllAndOverride<CacheTagsOption | undefined>(
      CACHE_TAGS_METADATA,
      targets,
    );
    const tags = typeof tagsOption === 'function' ? tagsOption(context) : tagsOption;
    const response = context.switchToHttp().getResponse<{ statusCode?: number }>();
    let ranHandler = false;
    let produced: { value: unknown } | undefined;
    try {
      const value = await this.cache.getOrSet(
        key,
        async () => {
          ranHandler = true;
          const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
          produced = { value };
          const statusCode = response?.statusCode;
          if (value instanceof StreamableFile || (statusCode !== undefined && statusCode >= 400))
            throw new UncachedResponse(value, statusCode);
          return value;
        },
        { ...(ttl === undefined ? {} : { ttl }), ...(tags === undefined ? {} : { tags }) },
      );
      this.setHeader(context, 'X-Cache', ranHandler ? 'MISS' : 'HIT');
      return of(value);
    } catch (error) {
      if (error instanceof UncachedResponse) {
        if (!ranHandler && error.statusCode !== undefined) this.setStatus(context, error.statusCode);
        this.setHeader(context, 'X-Cache', 'MISS');
        return of(error.value);
      }
      // A response the cache cannot hold (E_INVALID_VALUE: a BigInt, a cycle) is answered uncached:
      // the caller that ran the handler has it; a caller that waited runs the handler itself.
      if (isCacheError(error, 'E_INVALID_VALUE')) {
        this.setHeader(context, 'X-Cache', 'MISS');
        return produced !== undefined ? of(produced.value) : next.handle();
      }
      // A key the cache refuses (a URL over maxKeyBytes, a control character) or a cache closed
      // during shutdown: the request is served uncached rather than failed.
      if (!ranHandler && (isCacheError(error, 'E_INVALID_KEY') || isCacheError(error, 'E_CLOSED'))) {
        return next.handle();
      }
      throw error;
    }
  }

  /** The cache key of a request, or `undefined` to pass it through uncached. */
  protected trackBy(context: ExecutionContext): string | undefined {
    const keyOption = this.reflector.get<CacheKeyOption | undefined>(
      CACHE_KEY_METADATA,
      context.getHandler(),
    );
    if (typeof keyOption === 'function') return keyOption(context);
    if (typeof keyOption === 'string') return keyOption;
    if (context.getType() !== 'http' || !this.isRequestCacheable(context)) return undefined;
    const request = context.switchToHttp().getRequest();
    const adapter = this.adapterHost?.httpAdapter;
    const url: unknown = adapter !== undefined ? adapter.getRequestUrl(request) : request?.url;
    return typeof url === 'string' ? `http:${url}` : undefined;
  }

  protected isRequestCacheable(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ method?: string }>();
    return request?.method !== undefined && this.allowedMethods.includes(request.method);
  }

  private setHeader(context: ExecutionContext, name: string, value: string): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter === undefined || context.getType() !== 'http') return;
    adapter.setHeader(context.switchToHttp().getResponse(), name, value);
  }

  private setStatus(context: ExecutionContext, statusCode: number): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter === undefined || context.getType() !== 'http') return;
    adapter.status(context.switchToHttp().getResponse(), statusCode);
  }
}
