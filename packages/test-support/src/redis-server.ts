import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { redisCommand } from './resp.js';
import { watchdog } from './watchdog.js';

/**
 * Test harness: redis-server processes owned by the test that started them, on free ports,
 * controlled and stopped by pid. Nothing here ever touches a server it did not start (the shared
 * one on 6379 included): tests that only need *a* Redis use {@link sharedRedisUrl} and
 * {@link uniquePrefix} instead.
 */

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the current process; changes on {@link RedisServer.restart}. */
  readonly pid: number;
  /** The server's fresh working directory (`--dir`). Removed by stop(). */
  readonly dir: string;
  /** SIGTERM, wait for exit; SIGKILL if still running after 2 s. Removes the working directory. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (a crash). The handle stays usable for restart(). */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets but answers nothing (a hung server). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Stops the current process if it still runs, starts a new one on the same port, waits for PING. */
  restart(): Promise<void>;
  /** The last few KB the current process wrote to stdout/stderr (its log). */
  log(): string;
}

export interface StartRedisServerOptions {
  /** Fixed port. Default: a free port (retried if another process takes it first). */
  port?: number;
  /**
   * Extra redis-server arguments, appended to the defaults. A function receives the chosen port
   * (for per-port file names such as a cluster config file). With `--cluster-enabled` in the
   * arguments, the chosen port also has a free cluster bus port (port + 10000).
   */
  args?: string[] | ((port: number) => string[]);
  /**
   * Contents of a config file, written to the server's working directory and given as the first
   * argument (before the defaults and `args`). Redis Sentinel needs one: it rewrites it with
   * what it learns, and refuses to start without it. A function receives the chosen port.
   */
  configFile?: string | ((port: number) => string);
}

const HOST = '127.0.0.1';
const STARTUP_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 2_000;
const START_ATTEMPTS = 4;
const OUTPUT_LIMIT = 8_000;
const ADDRESS_IN_USE = /address already in use/i;

/** One spawned redis-server process. */
interface Launch {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly argv: string[];
  readonly exited: Promise<void>;
  /** Resolves after exit once stdout/stderr are drained (used for error messages). */
  readonly closed: Promise<void>;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  paused: boolean;
  output: string;
}

class AddressInUseError extends Error {}

/** Every process started here and not yet seen exiting, by pid. */
const running = new Map<number, Launch>();
/** Working directories not yet removed. */
const dirs = new Set<string>();
/** Handles not yet stopped (killed servers included: they still own a directory). */
const servers = new Set<RedisServer>();

function trackDir(dir: string): void {
  dirs.add(dir);
  watchdog.watchDir(dir);
}

async function removeDir(dir: string): Promise<void> {
  dirs.delete(dir);
  await rm(dir, { recursive: true, force: true });
  watchdog.forgetDir(dir);
}

// Last line of defence for a run that ends without afterAll (a crash, process.exit, a timeout):
// 'exit' handlers must be synchronous. The watchdog covers deaths that skip 'exit' (SIGKILL).
process.on('exit', () => {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Absolute path of a Redis binary on PATH, or an Error that says what to install. Never a skip:
 * a Redis test that silently does not run is a test that cannot fail.
 */
export function redisBinary(name: 'redis-server' | 'redis-cli'): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${name} is not on PATH, and the @org/cache tests and bench start their own Redis servers with it. ` +
      'Install Redis 7 or later: on Debian/Ubuntu `sudo apt-get install redis-server` (it provides ' +
      `redis-server and redis-cli); on macOS \`brew install redis\`. Then check with \`${name} --version\`.`,
  );
}

function isClustered(args: string[]): boolean {
  return args.includes('--cluster-enabled');
}

/** The config file's name inside a server's working directory (see `configFile`). */
export const CONFIG_FILE_NAME = 'redis.conf';

/**
 * How a launch gets its config file: none, these contents written first, or the file a previous
 * process of the same server left (a restarted Sentinel keeps what it learned, as a real one does).
 */
type ConfigSource = { write: (port: number) => string } | 'existing' | undefined;

function launch(port: number, args: string[], dir: string, config: ConfigSource): Launch {
  const configPath = join(dir, CONFIG_FILE_NAME);
  if (config !== undefined && config !== 'existing') writeFileSync(configPath, config.write(port));
  const argv = [
    ...(config === undefined ? [] : [configPath]),
    '--port',
    String(port),
    '--bind',
    HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--protected-mode',
    'no',
    '--dir',
    dir,
    '--loglevel',
    'warning',
    ...args,
  ];
  const child = spawn(redisBinary('redis-server'), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) {
    // spawn failed synchronously enough to have no pid (the 'error' event follows); nothing to track.
    child.on('error', () => {});
    throw new Error(`could not spawn redis-server ${argv.join(' ')}`);
  }
  const pid = child.pid;
  let onExit: () => void = () => {};
  let onClose: () => void = () => {};
  const exited = new Promise<void>((resolve) => {
    onExit = resolve;
  });
  const closed = new Promise<void>((resolve) => {
    onClose = resolve;
  });
  const started: Launch = { child, pid, argv, exited, closed, paused: false, output: '' };
  const append = (chunk: Buffer) => {
    started.output = (started.output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.on('error', (error) => append(Buffer.from(`\n[spawn error] ${error.message}\n`)));
  child.once('exit', (code, signal) => {
    started.exit = { code, signal };
    running.delete(pid);
    watchdog.forget(pid);
    onExit();
  });
  child.once('close', () => onClose());
  running.set(pid, started);
  watchdog.watch(pid);
  return started;
}

async function describeFailure(started: Launch, port: number, reason: string): Promise<string> {
  await Promise.race([started.closed, sleep(300)]);
  const status = started.exit
    ? `exited with ${started.exit.signal ?? `code ${started.exit.code}`}`
    : `still running as pid ${started.pid}`;
  const output = started.output.trim() || '(no output)';
  return `redis-server on port ${port} ${reason}; the process ${status}.\ncommand: redis-server ${started.argv
    .map((arg) => (arg === '' ? "''" : arg))
    .join(' ')}\noutput:\n${output}`;
}

/** Waits until the process we started (checked by pid, not just "something on the port") answers. */
async function waitUntilReady(started: Launch, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.exit) {
      const message = await describeFailure(started, port, 'did not start');
      throw ADDRESS_IN_USE.test(started.output) ? new AddressInUseError(message) : new Error(message);
    }
    // Something else may hold the port and never answer: stop probing as soon as our process exits.
    const probe = redisCommand(port, ['INFO', 'server'], { timeoutMs: 500 }).catch(() => undefined);
    const info = await Promise.race([probe, started.exited]);
    if (typeof info === 'string' && new RegExp(`^process_id:${started.pid}\\s*$`, 'm').test(info)) return;
    await sleep(20);
  }
  const message = await describeFailure(started, port, `did not answer within ${timeoutMs} ms`);
  await terminate(started, 0);
  throw new Error(message);
}

/** SIGTERM (plus SIGCONT if paused, or the signal stays pending), then SIGKILL after `graceMs`. */
async function terminate(started: Launch, graceMs = STOP_GRACE_MS): Promise<void> {
  if (started.exit) return;
  signal(started, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  if (started.paused) signal(started, 'SIGCONT');
  const grace = new AbortController();
  const timer = sleep(graceMs, 'timeout' as const, { signal: grace.signal }).catch(() => 'exited' as const);
  const outcome = await Promise.race([started.exited.then(() => 'exited' as const), timer]);
  grace.abort();
  if (outcome === 'timeout') {
    signal(started, 'SIGKILL');
    await started.exited;
  }
}

function signal(started: Launch, name: NodeJS.Signals): void {
  if (started.exit) return;
  try {
    process.kill(started.pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function launchReady(
  port: number | undefined,
  argsFor: (port: number) => string[],
  config: ConfigSource,
  dir: string,
): Promise<{ port: number; started: Launch }> {
  const clusterBus = isClustered(argsFor(0));
  for (let attempt = 1; ; attempt++) {
    const chosen = port ?? (await freePort({ clusterBus }));
    const started = launch(chosen, argsFor(chosen), dir, config);
    try {
      await waitUntilReady(started, chosen, STARTUP_TIMEOUT_MS);
      return { port: chosen, started };
    } catch (error) {
      // Another process (often a concurrent vitest worker) took the free port first: pick another.
      if (error instanceof AddressInUseError && port === undefined && attempt < START_ATTEMPTS) continue;
      throw error;
    }
  }
}

/**
 * Starts a redis-server owned by the caller on a free port (or `options.port`) with a fresh
 * working directory, no persistence, and waits until it answers (bounded: 5 s per attempt).
 * Throws with the server's output if it does not come up, or with install instructions if
 * redis-server is missing.
 */
export async function startRedisServer(options: StartRedisServerOptions = {}): Promise<RedisServer> {
  const { args = [], configFile } = options;
  const argsFor = typeof args === 'function' ? args : () => args;
  const config: ConfigSource =
    configFile === undefined
      ? undefined
      : { write: typeof configFile === 'string' ? () => configFile : configFile };
  redisBinary('redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'org-cache-redis-'));
  trackDir(dir);
  let current: Launch;
  let port: number;
  try {
    ({ port, started: current } = await launchReady(options.port, argsFor, config, dir));
  } catch (error) {
    await removeDir(dir);
    throw error;
  }
  let stopped = false;
  const assertUsable = (action: string) => {
    if (stopped) throw new Error(`${action}: the redis-server on port ${port} was stopped`);
  };
  const assertRunning = (action: string) => {
    assertUsable(action);
    if (current.exit) throw new Error(`${action}: the redis-server on port ${port} is not running`);
  };

  const server: RedisServer = {
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    get pid() {
      return current.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(current);
      servers.delete(server);
      await removeDir(dir);
    },
    async kill() {
      assertUsable('kill()');
      signal(current, 'SIGKILL');
      await current.exited;
    },
    pause() {
      assertRunning('pause()');
      signal(current, 'SIGSTOP');
      current.paused = true;
    },
    resume() {
      assertRunning('resume()');
      signal(current, 'SIGCONT');
      current.paused = false;
    },
    async restart() {
      assertUsable('restart()');
      await terminate(current);
      await mkdir(dir, { recursive: true });
      ({ started: current } = await launchReady(
        port,
        argsFor,
        config === undefined ? undefined : 'existing',
        dir,
      ));
    },
    log: () => current.output,
  };
  servers.add(server);
  return server;
}

/** Stops every server started in this process (for afterAll). Safe to call more than once. */
export async function stopAllRedisServers(): Promise<void> {
  const results = await Promise.allSettled([
    ...[...servers].map((server) => server.stop()),
    // processes still starting up, not yet behind a handle
    ...[...running.values()].map((started) => terminate(started)),
  ]);
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  if (failures.length > 0)
    throw new AggregateError(failures, 'stopAllRedisServers: some servers did not stop');
}

/** Pids of redis-server processes started here that have not exited (yet). */
export function trackedRedisPids(): number[] {
  return [...running.keys()];
}

/** For tests that only need *a* Redis: `REDIS_URL`, else the local default. Isolate keys with uniquePrefix(). */
export function sharedRedisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/**
 * A cache prefix unique to this call, for key isolation on a shared server:
 * `t-<label>-<pid>-<random>`. Only [A-Za-z0-9_-] (no ':', which cache prefixes may not contain,
 * and no glob characters).
 */
export function uniquePrefix(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'test';
  return `t-${safe}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
