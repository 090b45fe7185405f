import { parseArgs } from 'node:util';
import { usageError } from './errors.js';

/** Every flag cachectl knows; each command accepts the global ones plus its own. */
export const FLAGS = {
  url: { type: 'string', multiple: true },
  cluster: { type: 'boolean' },
  prefix: { type: 'string' },
  json: { type: 'boolean' },
  'connect-timeout': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  limit: { type: 'string' },
  key: { type: 'string', multiple: true },
  tag: { type: 'string', multiple: true },
  pattern: { type: 'string', multiple: true },
  yes: { type: 'boolean', short: 'y' },
  'dry-run': { type: 'boolean' },
  progress: { type: 'boolean' },
  'bus-channel': { type: 'string' },
  stream: { type: 'string' },
  count: { type: 'string' },
} as const;

export type FlagName = keyof typeof FLAGS;
export type Flags = ReturnType<typeof parseFlags>['values'];

export const GLOBAL_FLAGS: readonly FlagName[] = [
  'url',
  'cluster',
  'prefix',
  'json',
  'connect-timeout',
  'timeout',
  'help',
];

export interface Invocation {
  /** `undefined` when only flags were given (`cachectl --help`). */
  command: string | undefined;
  /** Positional arguments after the command name. */
  args: string[];
  flags: Flags;
  /** Flags actually present on the command line, to refuse those a command does not take. */
  given: FlagName[];
}

function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true, tokens: true });
}

/** Parses the command line; a malformed one is a usage error (exit 2), never a guess. */
export function parseInvocation(argv: string[]): Invocation {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const given = [
    ...new Set(parsed.tokens.flatMap((token) => (token.kind === 'option' ? [token.name as FlagName] : []))),
  ];
  const [command, ...args] = parsed.positionals;
  return { command, args, flags: parsed.values, given };
}

/** Refuses flags the command does not take: a mistyped command line must not half-run. */
export function assertFlagsAllowed(invocation: Invocation, command: string, own: readonly FlagName[]): void {
  const allowed = new Set<FlagName>([...GLOBAL_FLAGS, ...own]);
  const refused = invocation.given.filter((flag) => !allowed.has(flag));
  if (refused.length > 0) {
    throw usageError(`${command} does not take ${refused.map((flag) => `--${flag}`).join(', ')}`);
  }
}

/** A positive whole number from a flag, or a usage error naming the flag. */
export function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw usageError(`--${flag} must be a positive whole number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}
