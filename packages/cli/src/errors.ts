import { isCacheError } from '@org/cache-core';

/**
 * Exit codes are part of the interface: scripts branch on them. Never renumber; add new ones.
 * (A shell reports 128 + n for a process killed by signal n: 130 for Ctrl-C outside `watch`.)
 */
export const EXIT = {
  ok: 0,
  /** Redis failed during the command, the bus could not be told, or a bug. */
  failure: 1,
  /** Bad command line: unknown command or flag, missing or malformed --url / --prefix, bad number. */
  usage: 2,
  /** A key, pattern or tag the SDK refuses, or a --stream key that is not a stream. */
  invalidInput: 3,
  /** Redis did not answer within --connect-timeout. */
  unreachable: 4,
  /** Nothing matched: no such entry, no key for the pattern, no such tag, or an empty prefix. */
  noMatch: 5,
  /** Invalidation declined at the prompt, or refused without a terminal and without --yes. */
  aborted: 6,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM before it finished (`watch` ends with 0 instead). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI explains itself; `code` is stable (it appears in `--json` error output). */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** A next step for the user, printed after the message. */
  readonly hint: string | undefined;

  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    super(message, { cause: options.cause });
    this.hint = options.hint;
  }
}

export function usageError(message: string, hint?: string): CliError {
  return new CliError('E_USAGE', message, EXIT.usage, { hint: hint ?? 'see `cachectl --help`' });
}

export function noMatch(message: string, hint?: string): CliError {
  return new CliError('E_NO_MATCH', message, EXIT.noMatch, { hint });
}

export function interrupted(): CliError {
  return new CliError('E_INTERRUPTED', 'interrupted before the command finished', EXIT.interrupted);
}

export interface Failure {
  code: string;
  message: string;
  exitCode: ExitCode;
  hint?: string;
}

const INVALID_INPUT = new Set(['E_INVALID_KEY', 'E_INVALID_PATTERN', 'E_INVALID_OPTION']);

/** What to tell the user, and which exit code, for anything a command threw. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof CliError) {
    return { code: error.code, message: error.message, exitCode: error.exitCode, ...hintOf(error.hint) };
  }
  if (isCacheError(error)) {
    if (INVALID_INPUT.has(error.code))
      return { code: error.code, message: error.message, exitCode: EXIT.invalidInput };
    return {
      code: error.code,
      message: `Redis failed during the command: ${error.message}`,
      exitCode: EXIT.failure,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'E_INTERNAL', message, exitCode: EXIT.failure };
}

function hintOf(hint: string | undefined): { hint?: string } {
  return hint === undefined ? {} : { hint };
}
