import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sharedRedisUrl, uniquePrefix } from '@org/cache-test-support';
import { describe, expect, it } from 'vitest';

const WORKER = fileURLToPath(new URL('./workers/close-app.mjs', import.meta.url));
// How long after app.close() the process may take to exit. Generous: a busy 2-core machine.
// An open handle never lets it exit, so the bound only decides how long a failure takes to show.
const EXIT_BOUND_MS = 15_000;

interface Outcome {
  closed: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  output: string;
}

/** Runs the worker; once it printed `closed`, waits up to `boundMs` for it to exit, else kills it. */
function runWorker(env: Record<string, string>, boundMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [WORKER], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let closed = false;
    let bound: NodeJS.Timeout | undefined;
    // Before `closed`: start-up, two requests, close. Bounded too, so a hung start fails the test.
    const startBound = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      if (!closed && output.includes('closed\n')) {
        closed = true;
        clearTimeout(startBound);
        bound = setTimeout(() => child.kill('SIGKILL'), boundMs);
      }
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(startBound);
      clearTimeout(bound);
      resolve({ closed, exit: { code, signal }, output });
    });
  });
}

const workerEnv = () => ({
  REDIS_URL: sharedRedisUrl(),
  PREFIX: uniquePrefix('nest-close'),
  STREAM: uniquePrefix('nest-close-stream'),
});

describe('app.close()', () => {
  it('leaves no open handle: the process exits by itself (Redis store, CDC stream source, HTTP, health)', async () => {
    const outcome = await runWorker(workerEnv(), EXIT_BOUND_MS);
    expect(outcome.output).toContain('closed');
    expect(outcome.exit).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('leaves a cache the application handed in open: its Redis connection keeps the process alive', async () => {
    // The control for the test above: a handle left open is seen (the bound passes, the kill ends it).
    const outcome = await runWorker({ ...workerEnv(), KEEP_USER_CACHE: '1' }, 3_000);
    expect(outcome.closed).toBe(true);
    expect(outcome.exit).toEqual({ code: null, signal: 'SIGKILL' });
  }, 120_000);
});
