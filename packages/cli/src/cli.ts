import { readFileSync } from 'node:fs';
import type { CommandContext } from './command.js';
import { commands } from './commands/index.js';
import { describeFailure, EXIT, type ExitCode, usageError } from './errors.js';
import { commandHelp, generalHelp } from './help.js';
import { assertFlagsAllowed, type Invocation, parseInvocation } from './invocation.js';
import { Output, type Terminal } from './output.js';
import { resolveTarget } from './target.js';

export interface CliIo {
  stdout: Terminal;
  stderr: Terminal;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C / SIGTERM. */
  signal: AbortSignal;
}

/**
 * Runs one cachectl command line and resolves to its exit code. Never throws and never exits the
 * process: every failure becomes a message on stderr (JSON with `--json`) and a documented code.
 */
export async function run(argv: string[], io: CliIo): Promise<ExitCode> {
  const wantsJson = argv.includes('--json');
  const output = new Output(wantsJson, io.stdout, io.stderr);
  try {
    const invocation = parseInvocation(argv);
    if (invocation.flags.version === true) {
      await output.line(version());
      return EXIT.ok;
    }
    const command = commands.find((candidate) => candidate.name === invocation.command);
    if (invocation.command === undefined || (invocation.flags.help === true && command === undefined)) {
      if (invocation.flags.help !== true) throw usageError('no command given', generalHelp(commands));
      await output.line(generalHelp(commands));
      return EXIT.ok;
    }
    if (command === undefined) {
      throw usageError(
        `unknown command '${invocation.command}'`,
        `commands: ${commands.map((candidate) => candidate.name).join(', ')}`,
      );
    }
    if (invocation.flags.help === true) {
      await output.line(commandHelp(command));
      return EXIT.ok;
    }
    assertFlagsAllowed(invocation, command.name, command.flags);
    assertArgumentCount(invocation, command.name, command.args, command.usage);
    const context: CommandContext = {
      args: invocation.args,
      flags: invocation.flags,
      target: resolveTarget(invocation.flags, io.env),
      output,
      stdin: io.stdin,
      signal: io.signal,
    };
    await command.run(context);
    return EXIT.ok;
  } catch (error) {
    const failure = describeFailure(error);
    if (output.json) {
      output.stderr.write(`${JSON.stringify({ error: failure })}\n`);
    } else {
      output.stderr.write(`cachectl: ${failure.message}\n`);
      if (failure.hint !== undefined) output.stderr.write(`${failure.hint}\n`);
    }
    return failure.exitCode;
  }
}

function assertArgumentCount(
  invocation: Invocation,
  name: string,
  expected: { min: number; max: number },
  usage: string,
): void {
  const count = invocation.args.length;
  if (count < expected.min || count > expected.max) {
    const wanted =
      expected.max === 0
        ? 'no arguments'
        : expected.min === expected.max
          ? `${expected.min} argument`
          : `${expected.min}-${expected.max} arguments`;
    throw usageError(`${name} takes ${wanted}, got ${count}`, `usage: ${usage}`);
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `cachectl ${pkg.version}`;
}
