import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Runs the BUILT binary (`node packages/cli/dist/main.js`) as a process, the way an operator
 * does. Build first: `pnpm -s build` (the root `pnpm test` does).
 */
export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Variables added to a clean environment (REDIS_URL is never inherited from the test runner). */
  env?: Record<string, string>;
  /** Written to stdin, then stdin is closed. */
  input?: string;
  /** Killed (SIGKILL) past this: a hang fails the test instead of stalling the run. */
  killAfterMs?: number;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} does not exist: build first with \`pnpm -s build\``);
}

function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { REDIS_URL: _ignored, ...inherited } = process.env;
  return { ...inherited, ...extra };
}

export interface CliProcess {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr contains `text` (or rejects when the process ends first). */
  waitForStderr(text: string): Promise<void>;
  signal(name: NodeJS.Signals): void;
  finished: Promise<Finished>;
}

/** Starts cachectl and returns at once (for `watch`, or to send signals). */
export function startCachectl(args: string[], options: RunOptions = {}): CliProcess {
  assertBuilt();
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: environment(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn cachectl');
  running.add(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const wake of waiters.splice(0)) wake();
  });
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  const killer =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  let done = false;
  const finished = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      running.delete(child);
      done = true;
      for (const wake of waiters.splice(0)) wake();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid,
    stdout: () => stdout,
    stderr: () => stderr,
    finished,
    signal: (name) => child.kill(name),
    async waitForStderr(text) {
      while (!stderr.includes(text)) {
        if (done)
          throw new Error(`cachectl ended before printing ${JSON.stringify(text)}; stderr:\n${stderr}`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** Runs cachectl to the end. Generous kill timer: the machine is shared and slow. */
export function cachectl(args: string[], options: RunOptions = {}): Promise<Finished> {
  return startCachectl(args, { killAfterMs: 60_000, ...options }).finished;
}

/** The NDJSON records of a `--json` stdout. */
export function records<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
