import { assertValidKey } from '@org/cache-core';
import type { Command, CommandContext } from '../command.js';
import { confirm } from '../confirm.js';
import { type CacheSession, openCache } from '../connect.js';
import { CliError, EXIT, interrupted, usageError } from '../errors.js';
import { formatCount } from '../format.js';
import { decodeEnvelope, Inspector } from '../inspect.js';
import { nothingMatched } from '../nothing-matched.js';
import { type ProgressMode, progressOn } from '../progress.js';

/**
 * What an `invalidate` names: keys (`--key`), tags (`--tag`) or glob patterns (`--pattern`).
 * Exported as `InvalidateKind`; `InvalidateReport.kind` holds it.
 */
export type Kind = 'key' | 'tag' | 'pattern';

/** What `cachectl invalidate --json` prints on stdout. */
export interface InvalidateReport {
  kind: Kind;
  /** The keys, tags or patterns given, in order. */
  targets: string[];
  /** Entries the invalidation reaches, counted before it runs: stored keys (`--key`), live entries (`--pattern`), dependents (`--tag`). */
  matched: number;
  /** Entries invalidated: keys deleted, pattern entries deleted (expired ones included), tag dependents. */
  invalidated: number;
  dryRun: boolean;
  /** The bus channel told about it, or `null`. */
  busChannel: string | null;
}

interface Plan {
  /** Entries that will be invalidated. */
  matched: number;
  /** What is invalidated, as a noun phrase: `3 live entries matching 'orders:*'`. */
  what: string;
  run(context: CommandContext, session: CacheSession): Promise<number>;
}

export const invalidate: Command = {
  name: 'invalidate',
  summary: 'invalidate keys, tags or a pattern through the SDK (counts first, asks unless --yes)',
  usage:
    'cachectl invalidate (--key K... | --tag T... | --pattern P...) [--yes] [--dry-run] [--progress] [--bus-channel C]',
  flags: ['key', 'tag', 'pattern', 'yes', 'dry-run', 'progress', 'bus-channel'],
  args: { min: 0, max: 0 },
  async run(context) {
    const { flags, target, output } = context;
    const kinds = (['key', 'tag', 'pattern'] as const).filter((kind) => (flags[kind]?.length ?? 0) > 0);
    if (kinds.length !== 1) {
      throw usageError('invalidate takes exactly one of --key, --tag or --pattern (each may be repeated)');
    }
    const kind = kinds[0] as Kind;
    const targets = [...new Set(flags[kind] as string[])];
    if (kind === 'key') for (const key of targets) assertValidKey(key);
    const busChannel = flags['bus-channel'] ?? null;
    const session = await openCache(target, busChannel ?? undefined);
    try {
      const inspector = new Inspector(session.redis, target.prefix);
      const plan = await planFor(kind, targets, session, inspector);
      if (plan === undefined) throw await nothingMatched(inspector, nothingFor(kind, targets));
      output.note(`found ${plan.what}`);
      const report: InvalidateReport = {
        kind,
        targets,
        matched: plan.matched,
        invalidated: 0,
        dryRun: flags['dry-run'] === true,
        busChannel,
      };
      if (!report.dryRun) {
        if (flags.yes !== true) await askOrRefuse(context, plan);
        report.invalidated = await plan.run(context, session);
        await session.flushBus();
      }
      if (output.json) await output.record(report);
      else if (report.dryRun) await output.line(`dry run: would invalidate ${plan.what}`);
      else
        await output.line(
          `invalidated ${formatCount(report.invalidated)} entries (${kind} ${quoted(targets)})`,
        );
    } finally {
      await session.close();
    }
  },
};

async function planFor(
  kind: Kind,
  targets: string[],
  session: CacheSession,
  inspector: Inspector,
): Promise<Plan | undefined> {
  const { cache } = session;
  if (kind === 'key') {
    const stored = await Promise.all(targets.map((key) => inspector.exists(inspector.fullKey(key))));
    const matched = stored.filter(Boolean).length;
    if (matched === 0) return undefined;
    return {
      matched,
      what: `${formatCount(matched)} stored ${matched === 1 ? 'entry' : 'entries'} of ${plural(targets, 'key')} ${quoted(targets)}`,
      run: () => cache.deleteMany(targets),
    };
  }
  if (kind === 'pattern') {
    const counts = await Promise.all(targets.map((pattern) => cache.countByPattern(pattern)));
    const matched = counts.reduce((sum, count) => sum + count, 0);
    if (matched === 0) return undefined;
    return {
      matched,
      what: `${formatCount(matched)} live ${matched === 1 ? 'entry' : 'entries'} matching ${quoted(targets)}`,
      run: (context) => deletePatterns(context, session, targets, matched),
    };
  }
  // A tag without a token has nothing to invalidate: every entry that recorded one already misses.
  const tokens = await inspector.tagTokens(targets);
  if (tokens.every((token) => token === undefined)) return undefined;
  const matched = await countDependents(inspector, targets, tokens);
  return {
    matched,
    what: `${formatCount(matched)} live ${matched === 1 ? 'entry' : 'entries'} depending on ${plural(targets, 'tag')} ${quoted(targets)}`,
    run: async () => {
      await cache.invalidateTags(targets);
      return matched;
    },
  };
}

/** Entries that recorded one of the tags with its current token: those the invalidation turns into misses. */
async function countDependents(
  inspector: Inspector,
  tags: string[],
  tokens: Array<string | undefined>,
): Promise<number> {
  const current = new Map<string, string>();
  tags.forEach((tag, index) => {
    const token = tokens[index];
    if (token !== undefined) current.set(tag, token);
  });
  let dependents = 0;
  for await (const batch of inspector.entries()) {
    for (const { raw } of batch) {
      if (raw === undefined) continue;
      const decoded = decodeEnvelope(raw);
      if (!('envelope' in decoded)) continue;
      const recorded = decoded.envelope.tags;
      if (recorded === undefined) continue;
      const tokensNow = Object.entries(recorded).map(([tag, token]) => current.get(tag) === token);
      if (tokensNow.some(Boolean)) dependents++;
    }
  }
  return dependents;
}

async function deletePatterns(
  { flags, output, signal }: CommandContext,
  session: CacheSession,
  patterns: string[],
  total: number,
): Promise<number> {
  const mode: ProgressMode = output.stderrIsTerminal ? 'bar' : flags.progress === true ? 'lines' : 'off';
  const progress = progressOn(output.stderr, mode, total, 'deleting');
  let done = 0;
  for (const pattern of patterns) {
    const before = done;
    done += await session.cache.deleteByPattern(pattern, {
      // Throwing here stops the delete between two batches: Ctrl-C leaves no batch half-done.
      onProgress: (deleted) => {
        if (signal.aborted) throw interrupted();
        progress.update(before + deleted);
      },
    });
  }
  progress.finish(done);
  return done;
}

async function askOrRefuse({ stdin, output }: CommandContext, plan: Plan): Promise<void> {
  const question = `invalidate ${plan.what}?`;
  if (stdin.isTTY !== true || !output.stderrIsTerminal) {
    throw new CliError(
      'E_CONFIRMATION_REQUIRED',
      `refusing to ${question.slice(0, -1)} without confirmation: there is no terminal to ask on`,
      EXIT.aborted,
      { hint: 'add --yes to invalidate without asking (or --dry-run to only count)' },
    );
  }
  if (!(await confirm(question, stdin, output.stderr))) {
    throw new CliError('E_ABORTED', 'aborted: nothing was invalidated', EXIT.aborted);
  }
}

function nothingFor(kind: Kind, targets: string[]): string {
  if (kind === 'key') return `no entry ${quoted(targets)}`;
  if (kind === 'pattern') return `no entry matches ${quoted(targets)}`;
  return `no tag ${quoted(targets)} (no token: nothing depends on it)`;
}

function plural(items: string[], noun: string): string {
  return items.length === 1 ? noun : `${noun}s`;
}

function quoted(items: string[]): string {
  return items.map((item) => `'${item}'`).join(', ');
}
