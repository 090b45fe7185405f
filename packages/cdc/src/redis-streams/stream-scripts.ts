/**
 * Lua scripts for what must be atomic. Each runs on the stream's key only.
 *
 * The group's read counter (`entries-read`, Redis 7+) is what tells a lagging group from one
 * that lost entries to the cap: `lag` (entries added minus entries read) larger than the stream's
 * length means some entries the group never read are gone. That needs a counter that is valid
 * from the group's creation, hence CREATE_GROUP.
 */

/**
 * Creates the group at the end of the stream with an exact read counter (`ENTRIESREAD` of the
 * same moment), or with the stream (MKSTREAM) at its start. Replies like XGROUP CREATE (OK, or
 * the BUSYGROUP error when the group exists).
 */
export const CREATE_GROUP = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM', 'ENTRIESREAD', '0')
end
local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
if info.err then return info end
local added = 0
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then added = info[i + 1] end
end
return redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '$', 'ENTRIESREAD', added)
`;

/**
 * The stream's length and the group's position, read at one moment (an XADD between two XINFO
 * calls would make the lag look larger than the stream). Replies [length, last-delivered-id,
 * pending, lag (-1: unknown)], or nil when the stream or the group does not exist.
 */
export const GROUP_POSITION = `
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local length = redis.call('XLEN', KEYS[1])
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, group in ipairs(groups) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then
    local lag = fields['lag']
    if type(lag) ~= 'number' then lag = -1 end
    return { length, fields['last-delivered-id'], fields['pending'], lag }
  end
end
return nil
`;

/**
 * After a fail-safe covered the entries the cap trimmed, makes Redis forget them: XGROUP SETID to
 * the group's own current position (never moved back) without ENTRIESREAD resets the read
 * counter, which Redis then estimates again from what the stream holds. Replies the position.
 */
export const FORGET_TRIMMED = `
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, group in ipairs(groups) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then
    redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], fields['last-delivered-id'])
    return fields['last-delivered-id']
  end
end
return nil
`;
