import { createHash } from 'node:crypto';
import type { RedisConnection } from './connection.js';

/** A Lua script run by EVALSHA, loaded on first use or after a restart (NOSCRIPT). */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run<T>(connection: RedisConnection, keys: string[], args: string[]): Promise<T> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await connection.command<T>(['EVALSHA', this.sha, ...tail], keys[0]);
    } catch (error) {
      if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
      return connection.command<T>(['EVAL', this.source, ...tail], keys[0]);
    }
  }
}

/**
 * KEYS: entry, lease. ARGV: token, value, ttl in ms ('' = none), channel.
 * Writes the entry only while the lease still holds this token: an invalidation that deleted
 * the lease (or a newer set) wins over this late write. Then releases the lease and wakes waiters.
 */
export const commitScript = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[4], KEYS[1])
return 1
`);

/** KEYS: entry, lease. ARGV: token, channel. Releases the lease if still ours, and wakes waiters. */
export const releaseScript = new LuaScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[2], KEYS[1])
return 1
`);
