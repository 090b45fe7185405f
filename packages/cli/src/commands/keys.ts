import type { Command } from '../command.js';
import { openCache } from '../connect.js';
import { interrupted } from '../errors.js';
import { formatCount, formatTtl } from '../format.js';
import { Inspector } from '../inspect.js';
import { positiveInteger } from '../invocation.js';
import { nothingMatched } from '../nothing-matched.js';

/** One `--json` line of `keys`. */
export interface KeyRecord {
  /** The key without the prefix, as the application names it. */
  key: string;
  /** Remaining lifetime in Redis, ms; `null` = no expiry. */
  ttlMs: number | null;
}

/** Keys whose TTLs are asked together (pipelined): output starts at once and memory stays flat. */
const BATCH = 200;

export const keys: Command = {
  name: 'keys',
  summary: 'every live entry matching a glob, with its remaining TTL, streamed',
  usage: 'cachectl keys PATTERN [--limit N]',
  flags: ['limit'],
  args: { min: 1, max: 1 },
  async run({ args, flags, target, output, signal }) {
    const pattern = args[0] as string;
    const limit = positiveInteger(flags.limit, 'limit') ?? Number.POSITIVE_INFINITY;
    const session = await openCache(target);
    try {
      const inspector = new Inspector(session.redis, target.prefix);
      let printed = 0;
      let buffer: string[] = [];
      const flush = async () => {
        const batch = buffer;
        buffer = [];
        const ttls = await Promise.all(batch.map((key) => inspector.remainingTtl(inspector.fullKey(key))));
        for (let index = 0; index < batch.length && printed < limit; index++) {
          const ttlMs = ttls[index];
          if (ttlMs === undefined) continue; // deleted or expired since the scan saw it
          const key = batch[index] as string;
          const record: KeyRecord = { key, ttlMs };
          if (output.json) await output.record(record);
          else await output.line(`${key}\t${formatTtl(ttlMs)}`);
          printed++;
        }
      };
      for await (const key of session.cache.scan(pattern)) {
        if (signal.aborted) throw interrupted();
        buffer.push(key);
        if (buffer.length >= BATCH || printed + buffer.length >= limit) await flush();
        if (printed >= limit) break;
      }
      await flush();
      if (printed === 0) throw await nothingMatched(inspector, `no entry matches '${pattern}'`);
      if (printed >= limit) output.note(`stopped after ${formatCount(printed)} keys (--limit)`);
      else if (!output.json) output.note(`${formatCount(printed)} keys`);
    } finally {
      await session.close();
    }
  },
};
