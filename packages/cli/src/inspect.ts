import { escapeGlob, parseUntrustedJson } from '@org/cache-core';
import { capabilitiesOf, type Envelope, isEnvelope } from '@org/cache-core/adapter';
import type { RedisStore } from '@org/cache-redis';

/**
 * Read-only access to what the SDK does not expose: remaining TTLs, raw envelopes, tag tokens,
 * internal keys. Every write goes through the SDK instead (leases, bus), never through here.
 * Commands are routed by key, so this works on a cluster as on one server.
 */
export class Inspector {
  private readonly entryPrefix: string;
  private readonly internalPrefix: string;

  constructor(
    private readonly redis: RedisStore,
    readonly prefix: string,
  ) {
    this.entryPrefix = `${prefix}:`;
    this.internalPrefix = `${prefix}::`;
  }

  fullKey(key: string): string {
    return this.entryPrefix + key;
  }

  tagKey(tag: string): string {
    return `${this.internalPrefix}tag:${tag}`;
  }

  /** The raw value; `undefined` when absent. */
  async get(fullKey: string): Promise<string | undefined> {
    return (await this.command<string | null>(['GET', fullKey], fullKey)) ?? undefined;
  }

  /** Remaining lifetime in ms; `null` = no expiry; `undefined` = no such key. */
  async remainingTtl(fullKey: string): Promise<number | null | undefined> {
    const ttl = await this.command<number>(['PTTL', fullKey], fullKey);
    return ttl === -2 ? undefined : ttl === -1 ? null : Number(ttl);
  }

  async type(fullKey: string): Promise<string> {
    return String(await this.command<string>(['TYPE', fullKey], fullKey));
  }

  async memoryUsage(fullKey: string): Promise<number | undefined> {
    const bytes = await this.command<number | null>(['MEMORY', 'USAGE', fullKey], fullKey);
    return bytes === null ? undefined : Number(bytes);
  }

  async exists(fullKey: string): Promise<boolean> {
    return Number(await this.command<number>(['EXISTS', fullKey], fullKey)) === 1;
  }

  /** Current token of each tag, `undefined` where the tag has none. */
  async tagTokens(tags: readonly string[]): Promise<Array<string | undefined>> {
    if (tags.length === 0) return [];
    const values = await this.redis.getMany<string>(tags.map((tag) => this.tagKey(tag)));
    return values.map((value) => (typeof value === 'string' ? value : undefined));
  }

  /** How many internal keys of a kind (`tag`, `lease`) the prefix has, on every master. */
  async countInternal(kind: 'tag' | 'lease'): Promise<number> {
    const seen = new Set<string>();
    for await (const batch of this.scan(`${escapeGlob(this.internalPrefix)}${kind}:*`)) {
      for (const key of batch) seen.add(key);
    }
    return seen.size;
  }

  /**
   * Every stored entry of the prefix, dead or alive, with its raw value, in batches (one SCAN
   * and one MGET per batch). Internal keys are skipped.
   */
  async *entries(): AsyncGenerator<Array<{ key: string; raw: string | undefined }>> {
    const seen = new Set<string>();
    for await (const batch of this.scan(`${escapeGlob(this.entryPrefix)}*`)) {
      const keys = batch.filter((key) => !key.startsWith(this.internalPrefix) && !seen.has(key));
      for (const key of keys) seen.add(key);
      if (keys.length === 0) continue;
      const values = await this.redis.getMany<string>(keys);
      yield keys.map((key, index) => {
        const raw = values[index];
        return { key: key.slice(this.entryPrefix.length), raw: typeof raw === 'string' ? raw : undefined };
      });
    }
  }

  /** Whether anything at all (entries or internal keys) lives under the prefix. */
  async hasAnyKey(): Promise<boolean> {
    for await (const batch of this.scan(`${escapeGlob(this.entryPrefix)}*`)) {
      if (batch.length > 0) return true;
    }
    return false;
  }

  /**
   * Up to `limit` keys of the whole database grouped by what precedes their first `:`: shown when
   * a prefix has no keys, so a typo is obvious. Bounded: it stops after `limit` keys.
   */
  async samplePrefixes(limit: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let seen = 0;
    for await (const batch of this.scan('*')) {
      for (const key of batch) {
        const colon = key.indexOf(':');
        if (colon <= 0) continue;
        const prefix = key.slice(0, colon);
        counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
      }
      seen += batch.length;
      if (seen >= limit) break;
    }
    return counts;
  }

  private scan(pattern: string): AsyncIterable<string[]> {
    const scan = capabilitiesOf(this.redis)?.scan;
    if (scan === undefined) throw new Error('the Redis store has no scan capability');
    return scan(pattern);
  }

  private command<T>(args: string[], key: string): Promise<T> {
    return this.redis.connection.command<T>(args, key, true);
  }
}

/** The envelope in a raw value, or why there is none. */
export function decodeEnvelope(raw: string): { envelope: Envelope } | { unreadable: string } {
  let parsed: unknown;
  try {
    parsed = parseUntrustedJson(raw);
  } catch {
    return { unreadable: 'not JSON (an entry written with a codec, or by another program)' };
  }
  if (!isEnvelope(parsed)) return { unreadable: 'JSON, but not a cache envelope of this version' };
  return { envelope: parsed };
}
