import { CacheError } from '@org/cache-core';
import type { RedisConnectionOptions } from '@org/cache-redis/connection';
import { type RespReply, redisCommand, sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import {
  type ApplyOutcome,
  type InvalidationEvent,
  type RedisStreamPublisher,
  type RedisStreamPublisherOptions,
  type RedisStreamSource,
  type RedisStreamSourceOptions,
  redisStreamPublisher,
  redisStreamSource,
  type SourceContext,
} from '../../src/index.js';

/**
 * Helpers for the Redis stream tests: events, a recording source context, raw Redis commands
 * (on their own TCP connection, independent of the code under test) and cleanup of everything a
 * test opened.
 */

export { waitFor } from '@org/cache-test-support';
export { sharedRedisUrl, uniquePrefix };

let sequence = 0;

/** An Order change; `changeId` is unique per call, so every event can be told apart. */
export function orderEvent(id: string, extra: Partial<InvalidationEvent> = {}): InvalidationEvent {
  sequence++;
  return {
    source: 'salesforce',
    entity: 'Order',
    ids: [id],
    kind: 'update',
    changeId: `change-${process.pid}-${sequence}`,
    ...extra,
  };
}

/** A SourceContext that records what it was given; `failing` makes apply reject as a store that is down. */
export interface RecordingContext extends SourceContext {
  readonly applied: InvalidationEvent[];
  readonly failSafes: string[];
  /** What the source reported as not an event (`reportInvalid`). */
  readonly invalid: unknown[];
  attempts: number;
  failing: boolean;
  /** The changeIds applied, in order. */
  changeIds(): string[];
}

export function recordingContext(): RecordingContext {
  const context: RecordingContext = {
    applied: [],
    failSafes: [],
    invalid: [],
    attempts: 0,
    failing: false,
    entities: ['Order'],
    async apply(event): Promise<ApplyOutcome> {
      context.attempts++;
      if (context.failing) throw new CacheError('E_STORE_UNAVAILABLE', 'test: the store is down');
      context.applied.push(event);
      return { status: 'applied', keys: 0, tags: 0, patterns: 0 };
    },
    async failSafe(reason) {
      if (context.failing) throw new CacheError('E_STORE_UNAVAILABLE', 'test: the store is down');
      context.failSafes.push(reason);
    },
    reportInvalid(error) {
      context.invalid.push(error);
    },
    changeIds: () => context.applied.map((event) => event.changeId as string),
  };
  return context;
}

/** Runs one command on a fresh raw connection to the server at `url`. */
export function raw(url: string, args: string[]): Promise<RespReply> {
  const { hostname, port } = new URL(url);
  return redisCommand(Number(port || 6379), args, { host: hostname || '127.0.0.1', timeoutMs: 2_000 });
}

/** Un-acknowledged entries of a group (XPENDING summary count). */
export async function pendingCount(url: string, stream: string, group: string): Promise<number> {
  const reply = (await raw(url, ['XPENDING', stream, group])) as RespReply[];
  return Number(reply[0]);
}

/** Pending entries per consumer of a group. */
export async function pendingByConsumer(
  url: string,
  stream: string,
  group: string,
): Promise<Record<string, number>> {
  const reply = (await raw(url, ['XPENDING', stream, group])) as RespReply[];
  const consumers = (reply[3] ?? []) as Array<[string, string]>;
  return Object.fromEntries(consumers.map(([name, count]) => [name, Number(count)]));
}

type Target = 'url' | 'client' | 'cluster' | 'sentinel';

/** Options whose target (`url`, `client`, `cluster`) may be left out: the fixtures fill in their own url. */
type DefaultTarget<T> = T extends unknown
  ? Omit<T, Target> & Partial<Pick<RedisConnectionOptions, Target>>
  : never;

/** `options` with the fixtures' url unless they name a target of their own. */
function withTarget<T>(options: DefaultTarget<T>, url: string): T {
  const own = options.client ?? options.cluster ?? options.sentinel ?? options.url;
  return (own === undefined ? { url, ...options } : options) as T;
}

/** Opens sources and publishers for one test file and closes them, and deletes its streams. */
export class StreamFixtures {
  private readonly closers: Array<() => Promise<void>> = [];
  private readonly streams = new Set<string>();

  constructor(readonly url: string = sharedRedisUrl()) {}

  /** A stream name unique to this call; deleted by `cleanUp()`. */
  stream(label: string): string {
    const name = `${uniquePrefix(label)}:cdc`;
    this.streams.add(name);
    return name;
  }

  /** A source on this file's Redis unless `options` names a `url` or `client` of their own. */
  source(options: DefaultTarget<RedisStreamSourceOptions>): RedisStreamSource {
    const source = redisStreamSource(withTarget<RedisStreamSourceOptions>(options, this.url));
    this.closers.push(() => source.stop());
    return source;
  }

  publisher(options: DefaultTarget<RedisStreamPublisherOptions>): RedisStreamPublisher {
    const publisher = redisStreamPublisher(withTarget<RedisStreamPublisherOptions>(options, this.url));
    this.closers.push(() => publisher.close());
    return publisher;
  }

  /** Closes everything opened so far (afterEach). */
  async close(): Promise<void> {
    const closers = this.closers.splice(0);
    await Promise.allSettled(closers.map((close) => close()));
  }

  /** Deletes the streams created on the shared server (afterAll). */
  async cleanUp(): Promise<void> {
    await this.close();
    const streams = [...this.streams];
    this.streams.clear();
    if (streams.length > 0) await raw(this.url, ['DEL', ...streams]).catch(() => undefined);
  }
}
