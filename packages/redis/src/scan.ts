import type { RedisConnection } from './connection.js';

/**
 * SCAN MATCH over every master (one node when not clustered), in batches. SCAN may return a key
 * twice; core de-duplicates. `TYPE string` skips keys that cannot be cache entries.
 */
export async function* scanKeys(
  connection: RedisConnection,
  pattern: string,
  count: number,
): AsyncGenerator<string[]> {
  for (const node of await connection.masters()) {
    let cursor = '0';
    do {
      const [next, keys] = await node<[string, string[]]>([
        'SCAN',
        cursor,
        'MATCH',
        pattern,
        'COUNT',
        String(count),
        'TYPE',
        'string',
      ]);
      cursor = String(next);
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
