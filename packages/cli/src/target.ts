import { createCache, parseDuration } from '@org/cache-core';
import { usageError } from './errors.js';
import { redactUrl } from './format.js';
import type { Flags } from './invocation.js';

/** Which Redis and which cache: resolved from flags and the environment before any I/O. */
export interface Target {
  /** One URL, or a cluster's seed nodes. */
  urls: readonly string[];
  cluster: boolean;
  prefix: string;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
}

const DEFAULT_CONNECT_TIMEOUT = '2s';
const DEFAULT_OPERATION_TIMEOUT = '5s';

/**
 * `--url` (repeatable with `--cluster`) or `REDIS_URL`; never a default host: a CLI that quietly
 * talks to localhost while the operator meant production is worse than one that refuses.
 */
export function resolveTarget(flags: Flags, env: NodeJS.ProcessEnv): Target {
  const cluster = flags.cluster === true;
  const fromFlags = flags.url ?? [];
  const fromEnv = env.REDIS_URL?.trim() ? [env.REDIS_URL.trim()] : [];
  const urls = fromFlags.length > 0 ? fromFlags : fromEnv;
  if (urls.length === 0) {
    throw usageError('no Redis URL: pass --url redis://host:6379 or set REDIS_URL');
  }
  if (urls.length > 1 && !cluster) {
    throw usageError('several --url given: they are seed nodes of a Redis Cluster only; add --cluster');
  }
  for (const url of urls) {
    if (!/^rediss?:\/\/[^/]/.test(url)) {
      throw usageError(`--url must look like redis://host:port or rediss://host:port, got ${redactUrl(url)}`);
    }
  }
  return {
    urls,
    cluster,
    prefix: resolvePrefix(flags.prefix),
    connectTimeoutMs: durationFlag(flags['connect-timeout'] ?? DEFAULT_CONNECT_TIMEOUT, 'connect-timeout'),
    operationTimeoutMs: durationFlag(flags.timeout ?? DEFAULT_OPERATION_TIMEOUT, 'timeout'),
  };
}

function resolvePrefix(prefix: string | undefined): string {
  if (prefix === undefined) {
    throw usageError('--prefix is required: the cache prefix the application uses (createCache({ prefix }))');
  }
  // The SDK's own rule, checked by the SDK (a cache on a Map does no I/O), so the two never drift.
  try {
    void createCache({ store: new Map(), prefix }).close();
  } catch (error) {
    throw usageError(`--prefix: ${(error as Error).message}`);
  }
  return prefix;
}

function durationFlag(value: string, flag: string): number {
  const text = /^\d+$/.test(value) ? `${value}ms` : value;
  let ms: number;
  try {
    ms = parseDuration(text as never, `--${flag}`);
  } catch (error) {
    throw usageError((error as Error).message);
  }
  if (ms <= 0) throw usageError(`--${flag} must be greater than 0`);
  return ms;
}

/** The target for messages, passwords hidden. */
export function describeTarget(target: Target): string {
  const urls = target.urls.map(redactUrl).join(', ');
  return target.cluster ? `the Redis Cluster at ${urls}` : `Redis at ${urls}`;
}
