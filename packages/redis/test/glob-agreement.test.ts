import { createClient } from '@keyv/redis';
import { escapeGlob } from '@org/cache-core';
import { compileGlob } from '@org/cache-core/adapter';
import { sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The memory store and core's own filters (in-flight fetches, iterator stores) match globs with
// compileGlob; Redis matches them in SCAN MATCH. A pattern must select the same keys everywhere.
const subjects = [
  'a',
  'b',
  '-',
  ']',
  '^',
  '_',
  'x',
  '\\',
  '*',
  'ax',
  'bx',
  ']x',
  '-x',
  '[x]',
  'a*b',
  'aXb',
  'a\\b',
  'abc',
  'aéc',
  'a:c',
  'orders:1',
  'orders:1:jp',
  'xaxbxc',
  'line\nbreak',
  'zoë',
  '東京',
];

const patterns = [
  '*',
  'a*',
  '*x',
  '?',
  '??',
  'a?c',
  'a??c',
  '[abc]x',
  '[^a]x',
  '[a-c]*',
  '[z-a]',
  '[]x',
  '[]]x',
  '[^]x',
  '[a-]x]',
  '[\\]]',
  '[\\]x]',
  'a\\*b',
  'a\\\\b',
  '\\[x\\]',
  '*a*b*c',
  '**x',
  'orders:*',
  'orders:*:jp',
  'line*',
  'zo?',
  'zo??',
  '[a-zA-Z]*',
  `${escapeGlob('a*b')}`,
  `${escapeGlob(']')}`,
];

const prefix = uniquePrefix('glob');
const client = createClient({ url: sharedRedisUrl() });

beforeAll(async () => {
  await client.connect();
  for (const subject of subjects) await client.set(`${prefix}:${subject}`, '1');
});

afterAll(async () => {
  for (const subject of subjects) await client.del(`${prefix}:${subject}`);
  await client.close();
});

async function redisMatches(pattern: string): Promise<string[]> {
  const found = new Set<string>();
  for await (const batch of client.scanIterator({ MATCH: `${escapeGlob(prefix)}:${pattern}`, COUNT: 1000 })) {
    for (const key of batch) found.add(key.slice(prefix.length + 1));
  }
  return [...found].sort();
}

describe('compileGlob and Redis SCAN MATCH', () => {
  it.each(patterns)('select the same keys for %s', async (pattern) => {
    const matcher = compileGlob(`${escapeGlob(prefix)}:${pattern}`);
    const ours = subjects.filter((subject) => matcher.test(`${prefix}:${subject}`)).sort();
    expect(ours).toEqual(await redisMatches(pattern));
  });
});
