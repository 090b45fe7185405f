import type { Command } from '../command.js';
import { openCache } from '../connect.js';
import { formatBytes, formatCount } from '../format.js';
import { Inspector } from '../inspect.js';
import { nothingMatched } from '../nothing-matched.js';

export interface MemoryReport {
  pattern: string;
  /** Live matching entries. */
  entries: number;
  /** Bytes Redis holds for every matching entry (MEMORY USAGE), expired ones not yet evicted included. */
  bytes: number;
}

export const memory: Command = {
  name: 'memory',
  summary: 'bytes Redis holds for the entries matching a glob',
  usage: 'cachectl memory PATTERN',
  flags: [],
  args: { min: 1, max: 1 },
  async run({ args, target, output }) {
    const pattern = args[0] as string;
    const session = await openCache(target);
    try {
      const [bytes, entries] = await Promise.all([
        session.cache.memoryUsageByPattern(pattern),
        session.cache.countByPattern(pattern),
      ]);
      if (bytes === 0 && entries === 0) {
        throw await nothingMatched(
          new Inspector(session.redis, target.prefix),
          `no entry matches '${pattern}'`,
        );
      }
      const report: MemoryReport = { pattern, entries, bytes };
      if (output.json) await output.record(report);
      else
        await output.line(
          `${formatBytes(bytes)} (${formatCount(bytes)} bytes) in ${formatCount(entries)} live entries matching '${pattern}'`,
        );
    } finally {
      await session.close();
    }
  },
};
