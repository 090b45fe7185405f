import type { FlagName, Flags } from './invocation.js';
import type { Output } from './output.js';
import type { Target } from './target.js';

export interface CommandContext {
  /** Positional arguments after the command name. */
  args: string[];
  flags: Flags;
  target: Target;
  output: Output;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Aborted on the first Ctrl-C / SIGTERM: long loops stop and the command ends cleanly. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `cachectl --help`. */
  summary: string;
  /** The synopsis, without the global flags. */
  usage: string;
  /** Flags this command takes besides the global ones. */
  flags: readonly FlagName[];
  /** How many positional arguments it takes. */
  args: { min: number; max: number };
  run(context: CommandContext): Promise<void>;
}
