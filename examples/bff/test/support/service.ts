import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Starts the BUILT service (`node examples/bff/dist/main.js`) as a child process on a free port,
 * the way an operator would, and stops it by its pid. Build first:
 * `pnpm -s build && pnpm --filter @org/example-bff run build`.
 */

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface BffProcess {
  /** `http://127.0.0.1:<port>`, parsed from the start-up banner. */
  readonly url: string;
  readonly pid: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). Resolves to how it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Variables the service reads: never inherited from the test runner's environment. */
const SERVICE_VARIABLES = [
  'PORT',
  'HOST',
  'REDIS_URL',
  'CACHE_TIER',
  'CACHE_PREFIX',
  'SERVICES_CACHE_SAFETY_TTL_SECONDS',
  'CDC_STREAM',
  'CDC_GROUP',
  'CDC_CONSUMER',
  'SALESFORCE_LATENCY_MS',
  'WHMCS_LATENCY_MS',
  'WHMCS_FAILURE_RATE',
  'WHMCS_SLOW_RATE',
  'MAX_BODY_BYTES',
  'PUBLIC_DIR',
];

const STARTUP_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;
const running = new Map<number, ChildProcess>();

// A test run that ends without its afterAll (a crash, a timeout) must not leave services behind.
process.on('exit', () => {
  for (const child of running.values()) child.kill('SIGKILL');
});

export async function startBff(env: Record<string, string> = {}): Promise<BffProcess> {
  if (!existsSync(MAIN)) {
    throw new Error(
      `${MAIN} does not exist: build first with \`pnpm -s build && pnpm --filter @org/example-bff run build\``,
    );
  }
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !SERVICE_VARIABLES.includes(name)),
  );
  const child = spawn(process.execPath, [MAIN], {
    env: { ...inherited, PORT: '0', WHMCS_FAILURE_RATE: '0', WHMCS_SLOW_RATE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn the BFF');
  const pid = child.pid;
  running.set(pid, child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(pid);
      resolve({ code, signal });
    });
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the BFF did not print its URL within ${STARTUP_TIMEOUT_MS} ms:\n${output}`));
    }, STARTUP_TIMEOUT_MS);
    const onData = () => {
      const match = /BFF listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      resolve(match[1]);
    };
    child.stdout?.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the BFF exited (${signal ?? `code ${code}`}) before listening:\n${output}`));
    });
  });

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  return {
    url,
    pid,
    output: () => output,
    stop() {
      stopping ??= (async () => {
        if (running.has(pid)) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        const result = await exited;
        clearTimeout(timer);
        return result;
      })();
      return stopping;
    },
  };
}
