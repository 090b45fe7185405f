import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MAIN_PATH = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_LIMIT = 20_000;

export interface RunningService {
  /** `http://127.0.0.1:<port>`, as the service printed it. */
  url: string;
  dashboardUrl: string;
  /** What the process wrote so far (stdout and stderr, the last 20 kB). */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the built service (`node examples/bff/dist/main.js`) on a free port, with an in-memory
 * store and upstreams that never fail at random, and resolves once it printed its URLs.
 */
export async function startBuiltService(env: Record<string, string> = {}): Promise<RunningService> {
  if (!existsSync(MAIN_PATH)) {
    throw new Error(
      `${MAIN_PATH} is missing: build the example first, from the repository root:\n` +
        '  pnpm -s build && pnpm --filter @org/example-bff run build',
    );
  }
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    WHMCS_FAILURE_RATE: '0',
    WHMCS_SLOW_RATE: '0',
    ...env,
  };
  // Whatever the surrounding shell points at, this test runs its own memory-backed service.
  for (const name of ['REDIS_URL', 'CACHE_TIER']) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, [MAIN_PATH], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = once(() => stopProcess(child, exited));
  try {
    const url = await printedUrl(child, () => output, exited);
    return { url, dashboardUrl: `${url}/dashboard`, output: () => output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The base URL from the banner: a line naming `<url>/dashboard`, or "listening on <url>". */
function urlIn(output: string): string | undefined {
  const dashboard = output.match(/(https?:\/\/[^\s/]+)\/dashboard\b/);
  if (dashboard?.[1]) return dashboard[1];
  return output.match(/listening on (https?:\/\/[^\s/]+)/i)?.[1];
}

function printedUrl(child: ChildProcess, output: () => string, exited: Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${MAIN_PATH} printed no URL within ${START_TIMEOUT_MS} ms; output:\n${output()}`));
    }, START_TIMEOUT_MS);
    const onData = () => {
      const url = urlIn(output());
      if (url === undefined) return;
      finish();
      resolve(url);
    };
    const finish = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
    };
    child.stdout?.on('data', onData);
    exited.then(() => {
      finish();
      reject(
        new Error(
          `${MAIN_PATH} exited with code ${child.exitCode} before it printed a URL; output:\n${output()}`,
        ),
      );
    });
  });
}

async function stopProcess(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function once(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => {
    running ??= run();
    return running;
  };
}
