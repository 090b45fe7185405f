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
 * A lease's value is `<token>|<what the entry was>`: the SHA-1 of the entry's bytes when the lease
 * was taken, `-` when there was none, `?` when the key held another type. That record is how a
 * plain set revokes a fetch in flight without costing every set a second command: the holder's
 * commit finds the entry changed since and leaves the newer value alone. An invalidation still
 * deletes the lease (an entry deleted since would otherwise look merely expired).
 */
const LEASE_HELPERS = `
local function entryState(entry)
  local current = redis.pcall('GET', entry)
  if type(current) == 'table' then return '?' end
  if not current then return '-' end
  return redis.sha1hex(current)
end
local function heldBy(lease, token)
  local held = redis.call('GET', lease)
  if not held or string.sub(held, 1, #token + 1) ~= token .. '|' then return nil end
  return string.sub(held, #token + 2)
end
`;

/** KEYS: entry, lease. ARGV: token, ttl in ms. Takes the lease if free; `OK` or nil, as SET NX. */
export const acquireScript = new LuaScript(`${LEASE_HELPERS}
return redis.call('SET', KEYS[2], ARGV[1] .. '|' .. entryState(KEYS[1]), 'NX', 'PX', ARGV[2])
`);

/**
 * KEYS: entry, lease. ARGV: token, value, ttl in ms ('' = none), channel.
 * Writes the entry only while the lease still holds this token (an invalidation deleted it) and
 * the entry is as the lease found it, or gone since (expired): a set made during the fetch wins
 * over this older result. Either way the lease is released and its waiters woken.
 */
export const commitScript = new LuaScript(`${LEASE_HELPERS}
local found = heldBy(KEYS[2], ARGV[1])
if not found then return 0 end
local now = entryState(KEYS[1])
local written = 0
if now == '-' or now == found then
  if ARGV[3] == '' then
    redis.call('SET', KEYS[1], ARGV[2])
  else
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  end
  written = 1
end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[4], KEYS[1])
return written
`);

/** KEYS: entry, lease. ARGV: token, channel. Releases the lease if still ours, and wakes waiters. */
export const releaseScript = new LuaScript(`${LEASE_HELPERS}
if not heldBy(KEYS[2], ARGV[1]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[2], KEYS[1])
return 1
`);
