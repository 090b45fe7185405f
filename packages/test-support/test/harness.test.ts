import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../src/free-port.js';
import { type LoadRecord, staleReads } from '../src/invalidation-load.js';
import { measure } from '../src/measurements.js';
import { startRedisCluster } from '../src/redis-cluster.js';
import {
  sharedRedisUrl,
  startRedisServer,
  stopAllRedisServers,
  trackedRedisPids,
  uniquePrefix,
} from '../src/redis-server.js';
import { RedisCommandTimeoutError, type RespReply, redisCommand } from '../src/resp.js';

// The real freePort, wrapped so one test can hand out a port that is already taken.
vi.mock('../src/free-port.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/free-port.js')>();
  return { ...real, freePort: vi.fn(real.freePort) };
});

const execFileAsync = promisify(execFile);

afterAll(() => stopAllRedisServers());
afterEach(() => {
  vi.unstubAllEnvs();
});

const ping = (port: number, timeoutMs = 1000) => redisCommand(port, ['PING'], { timeoutMs });

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * isAlive() minus zombies: a server orphaned by a dead child process is re-parented to pid 1,
 * which may take a while to reap it. Dead but unreaped is dead for our purpose (Linux /proc).
 */
function isRunning(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return isAlive(pid);
  }
}

async function processId(port: number): Promise<number> {
  const info = String(await redisCommand(port, ['INFO', 'server']));
  return Number(/^process_id:(\d+)/m.exec(info)?.[1]);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return address.port;
}

describe('startRedisServer', () => {
  it('starts a server of our own that answers PING, and stop() ends it by pid', async () => {
    const server = await startRedisServer();
    expect(server.port).not.toBe(6379);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    const { stdout } = await execFileAsync('redis-cli', ['-p', String(server.port), 'ping'], {
      timeout: 5000,
    });
    expect(stdout.trim()).toBe('PONG');
    expect(await ping(server.port)).toBe('PONG');
    expect(await processId(server.port)).toBe(server.pid);
    expect(await redisCommand(server.port, ['CONFIG', 'GET', 'save'])).toEqual(['save', '']);
    expect(await redisCommand(server.port, ['CONFIG', 'GET', 'appendonly'])).toEqual(['appendonly', 'no']);
    expect(await redisCommand(server.port, ['CONFIG', 'GET', 'dir'])).toEqual([
      'dir',
      await realpath(server.dir),
    ]);
    expect(trackedRedisPids()).toContain(server.pid);

    const pid = server.pid;
    await server.stop();
    await expect(ping(server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(isAlive(pid)).toBe(false);
    expect(trackedRedisPids()).not.toContain(pid);
    expect(existsSync(server.dir)).toBe(false);
  });

  it('appends extra arguments to the defaults', async () => {
    const server = await startRedisServer({
      args: ['--maxmemory', '10mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    expect(await redisCommand(server.port, ['CONFIG', 'GET', 'maxmemory'])).toEqual([
      'maxmemory',
      '10485760',
    ]);
    expect(await redisCommand(server.port, ['CONFIG', 'GET', 'maxmemory-policy'])).toEqual([
      'maxmemory-policy',
      'allkeys-lru',
    ]);
    await server.stop();
  });

  it('pause() makes the server answer nothing; resume() brings it back', async () => {
    const server = await startRedisServer();
    server.pause();
    const before = performance.now();
    await expect(ping(server.port, 300)).rejects.toBeInstanceOf(RedisCommandTimeoutError);
    expect(performance.now() - before).toBeGreaterThanOrEqual(280);
    server.resume();
    expect(await ping(server.port)).toBe('PONG');
    await server.stop();
  });

  it('stop() ends a paused server without waiting for the SIGKILL fallback', async () => {
    const server = await startRedisServer();
    const pid = server.pid;
    server.pause();
    const before = performance.now();
    await server.stop();
    expect(performance.now() - before).toBeLessThan(1500);
    expect(isAlive(pid)).toBe(false);
  });

  it('kill() crashes the server; restart() brings up a new process on the same port', async () => {
    const server = await startRedisServer();
    const { port, pid: oldPid } = server;
    await redisCommand(port, ['SET', 'harness-key', 'v']);
    await server.kill();
    expect(isAlive(oldPid)).toBe(false);
    await expect(ping(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(oldPid);
    expect(isAlive(server.pid)).toBe(true);
    expect(await ping(port)).toBe('PONG');
    expect(await processId(port)).toBe(server.pid);
    expect(await redisCommand(port, ['GET', 'harness-key'])).toBeNull(); // nothing persisted
    await server.stop();
  });

  it('restart() of a running server stops the old process first', async () => {
    const server = await startRedisServer();
    const oldPid = server.pid;
    await server.restart();
    expect(isAlive(oldPid)).toBe(false);
    expect(await processId(server.port)).toBe(server.pid);
    await server.stop();
    await expect(server.restart()).rejects.toThrow(/was stopped/);
  });

  it('retries on another port when the free port is taken before redis-server binds it', async () => {
    const blocker = createServer();
    const busy = await listen(blocker);
    try {
      vi.mocked(freePort).mockClear().mockResolvedValueOnce(busy);
      const server = await startRedisServer();
      expect(server.port).not.toBe(busy);
      expect(vi.mocked(freePort)).toHaveBeenCalledTimes(2);
      expect(await ping(server.port)).toBe('PONG');
      await server.stop();

      // A fixed port is never swapped: the error says why, with the server's own output.
      await expect(startRedisServer({ port: busy })).rejects.toThrow(
        new RegExp(`port ${busy} did not start[\\s\\S]*Address already in use`),
      );
    } finally {
      blocker.close();
    }
  });

  it('starts several servers at once on distinct ports', async () => {
    const servers = await Promise.all(Array.from({ length: 6 }, () => startRedisServer()));
    expect(new Set(servers.map((server) => server.port)).size).toBe(6);
    expect(await Promise.all(servers.map((server) => ping(server.port)))).toEqual(Array(6).fill('PONG'));
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('fails fast with the server output when redis-server refuses to start', async () => {
    const before = performance.now();
    await expect(startRedisServer({ args: ['--no-such-directive', 'x'] })).rejects.toThrow(
      /did not start[\s\S]*exited with code 1[\s\S]*no-such-directive/,
    );
    expect(performance.now() - before).toBeLessThan(3000);
  });

  it('says what to install when redis-server or redis-cli is not on PATH', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'org-cache-empty-path-'));
    try {
      vi.stubEnv('PATH', empty);
      await expect(startRedisServer()).rejects.toThrow(
        /redis-server is not on PATH[\s\S]*apt-get install redis-server/,
      );
      await expect(startRedisCluster()).rejects.toThrow(/is not on PATH[\s\S]*apt-get install redis-server/);
    } finally {
      vi.unstubAllEnvs();
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('startRedisServer with a config file', () => {
  it('writes the file, passes it first, and a restart keeps what the server rewrote in it', async () => {
    const server = await startRedisServer({ configFile: 'maxmemory-policy allkeys-lru\n' });
    try {
      expect(await redisCommand(server.port, ['CONFIG', 'GET', 'maxmemory-policy'])).toEqual([
        'maxmemory-policy',
        'allkeys-lru',
      ]);
      await redisCommand(server.port, ['CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru']);
      await redisCommand(server.port, ['CONFIG', 'REWRITE']);
      await server.restart();
      expect(await redisCommand(server.port, ['CONFIG', 'GET', 'maxmemory-policy'])).toEqual([
        'maxmemory-policy',
        'volatile-lru',
      ]);
    } finally {
      await server.stop();
    }
  });
});

describe("staleReads (the failover tests' judge)", () => {
  const call = { operation: 'get' as const, worker: 0 };
  const record: LoadRecord = {
    calls: [],
    wrongShapes: [],
    invalidations: [
      { ...call, operation: 'invalidateTags', startedAt: 1, settledAt: 2, version: 1 },
      { ...call, operation: 'invalidateTags', startedAt: 5, settledAt: 6, version: 2 },
      { ...call, worker: 1, operation: 'invalidateTags', startedAt: 1, settledAt: 2, version: 9 },
    ],
    reads: [
      { ...call, startedAt: 3, settledAt: 4, version: 1 }, // after v1: fine
      { ...call, startedAt: 5.5, settledAt: 7, version: 1 }, // during v2's call: fine
      { ...call, startedAt: 7, settledAt: 8, version: 1 }, // after v2 was acknowledged: stale
      { ...call, startedAt: 9, settledAt: 10, version: undefined }, // a miss: fine
    ],
  };

  it('flags a read older than an invalidation of its worker acknowledged before it started', () => {
    expect(
      staleReads(record, () => true).map(({ read, undone }) => [read.startedAt, undone.version]),
    ).toEqual([[7, 2]]);
  });

  it('judges only the invalidations selected', () => {
    expect(staleReads(record, (invalidation) => invalidation.version !== 2)).toEqual([]);
  });
});

describe('startRedisCluster', () => {
  it('starts 3 masters that reach cluster_state:ok with all 16384 slots covered', async () => {
    const before = performance.now();
    const cluster = await startRedisCluster();
    const elapsed = performance.now() - before;
    measure(`3-master cluster ready in ${Math.round(elapsed)} ms`);
    const ports = cluster.nodes.map((node) => node.port);
    expect(cluster.nodes).toHaveLength(3);
    expect(cluster.rootNodes).toEqual(ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })));

    for (const port of ports) {
      const info = String(await redisCommand(port, ['CLUSTER', 'INFO']));
      expect(info).toMatch(/^cluster_state:ok\r?$/m);
      expect(info).toMatch(/^cluster_slots_assigned:16384\r?$/m);
      expect(info).toMatch(/^cluster_size:3\r?$/m);
      expect(info).toMatch(/^cluster_known_nodes:3\r?$/m);
    }
    const ranges = (await redisCommand(ports[0] ?? 0, ['CLUSTER', 'SLOTS'])) as RespReply[][];
    const owned = ranges
      .map(([start, end, master]) => ({
        start: Number(start),
        end: Number(end),
        port: Number((master as RespReply[])[1]),
      }))
      .sort((a, b) => a.start - b.start);
    let next = 0;
    for (const range of owned) {
      expect(range.start).toBe(next);
      expect(ports).toContain(range.port);
      next = range.end + 1;
    }
    expect(next).toBe(16384);
    expect(new Set(owned.map((range) => range.port)).size).toBe(3);

    // An independent client follows the redirects: a key written through one node reads through another.
    const cli = (port: number, ...args: string[]) =>
      execFileAsync('redis-cli', ['-c', '-p', String(port), ...args], { timeout: 5000 }).then((r) =>
        r.stdout.trim(),
      );
    expect(await cli(ports[0] ?? 0, 'SET', 'harness:{a}', '1')).toBe('OK');
    expect(await cli(ports[1] ?? 0, 'GET', 'harness:{a}')).toBe('1');

    const pids = cluster.nodes.map((node) => node.pid);
    await cluster.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(cluster.nodes.filter((node) => existsSync(node.dir))).toEqual([]);
  }, 60_000);

  it('builds a 1-master cluster by hand (redis-cli needs at least 3)', async () => {
    const cluster = await startRedisCluster({ masters: 1 });
    const port = cluster.nodes[0]?.port ?? 0;
    expect(String(await redisCommand(port, ['CLUSTER', 'INFO']))).toMatch(/^cluster_state:ok\r?$/m);
    const [only, ...others] = (await redisCommand(port, ['CLUSTER', 'SLOTS'])) as RespReply[][];
    expect(others).toEqual([]);
    const [start, end, master] = only ?? [];
    expect([start, end]).toEqual([0, 16383]);
    // a node that was never MEET-ed would report '' here without --cluster-announce-ip
    expect((master as RespReply[] | undefined)?.slice(0, 2)).toEqual(['127.0.0.1', port]);
    await cluster.stop();
  }, 30_000);
});

describe('shared Redis helpers', () => {
  it('sharedRedisUrl() prefers REDIS_URL', () => {
    vi.stubEnv('REDIS_URL', '');
    expect(sharedRedisUrl()).toBe('redis://127.0.0.1:6379');
    vi.stubEnv('REDIS_URL', 'redis://redis.test:6380');
    expect(sharedRedisUrl()).toBe('redis://redis.test:6380');
  });

  it('uniquePrefix() is unique per call and never contains ":" or glob characters', () => {
    const prefixes = Array.from({ length: 100 }, () => uniquePrefix('orders:detail*[x]'));
    expect(new Set(prefixes).size).toBe(100);
    for (const prefix of prefixes) {
      expect(prefix).toMatch(new RegExp(`^t-orders-detail-x-${process.pid}-[0-9a-f]{8}$`));
    }
  });
});

// Crash safety is a claim about processes, so it is tested with a real one: a child node process
// runs the compiled harness, starts a (paused) server and dies without any afterAll. (vitest 4
// ends its fork workers without running 'exit' handlers, so the watchdog is what cleans up after
// a test that forgets to stop its server.)
describe('servers never outlive the process that started them', () => {
  const support = fileURLToPath(new URL('../src/', import.meta.url));
  let compiled: string | undefined;
  const orphans: number[] = [];

  afterAll(async () => {
    for (const pid of orphans.filter(isRunning)) process.kill(pid, 'SIGKILL'); // only if the test failed
    if (compiled) await rm(compiled, { recursive: true, force: true });
  });

  async function compileHarness(): Promise<string> {
    if (compiled) return compiled;
    const out = await mkdtemp(join(tmpdir(), 'org-cache-harness-'));
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
    for (const file of await readdir(support)) {
      if (!file.endsWith('.ts')) continue;
      const { outputText } = ts.transpileModule(await readFile(join(support, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      await writeFile(join(out, file.replace(/\.ts$/, '.js')), outputText);
    }
    await writeFile(
      join(out, 'child.js'),
      `import { startRedisServer } from './redis-server.js';
const server = await startRedisServer();
server.pause();
process.stdout.write(JSON.stringify({ pid: server.pid, dir: server.dir }) + '\\n');
if (process.argv[2] === 'exit') process.exit(3);
else process.kill(process.pid, 'SIGKILL');
`,
    );
    compiled = out;
    return out;
  }

  for (const [mode, death] of [
    ['exit', 'process.exit() (the exit handler)'],
    ['sigkill', 'SIGKILL (the watchdog)'],
  ] as const) {
    it(`cleans up after ${death}`, async () => {
      const dir = await compileHarness();
      const child = spawn(process.execPath, [join(dir, 'child.js'), mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const [code, signal] = await Promise.race([
        new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
          child.once('exit', (c, s) => resolve([c, s])),
        ),
        sleep(10_000).then(() => {
          child.kill('SIGKILL');
          throw new Error(`child did not exit in 10 s; stderr: ${stderr}`);
        }),
      ]);
      expect({ code, signal, stderr }).toEqual(
        mode === 'exit'
          ? { code: 3, signal: null, stderr: '' }
          : { code: null, signal: 'SIGKILL', stderr: '' },
      );
      const started = JSON.parse(stdout) as { pid: number; dir: string };
      orphans.push(started.pid);
      const deadline = Date.now() + 3000;
      while ((isRunning(started.pid) || existsSync(started.dir)) && Date.now() < deadline) await sleep(20);
      expect(isRunning(started.pid)).toBe(false);
      expect(existsSync(started.dir)).toBe(false);
    }, 20_000);
  }
});

describe('stopAllRedisServers', () => {
  it('leaves no tracked pid alive: running, paused, killed and restarted servers alike', async () => {
    const [running, paused, killed, restarted] = await Promise.all(
      Array.from({ length: 4 }, () => startRedisServer()),
    );
    if (!running || !paused || !killed || !restarted) throw new Error('servers did not start');
    paused.pause();
    await killed.kill();
    await restarted.kill();
    await restarted.restart();
    const pids = [running, paused, killed, restarted].map((server) => server.pid);
    expect(pids.filter(isAlive)).toHaveLength(3);

    await stopAllRedisServers();
    expect(trackedRedisPids()).toEqual([]);
    for (const pid of pids) {
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    }
    for (const server of [running, paused, killed, restarted]) expect(existsSync(server.dir)).toBe(false);
    await stopAllRedisServers(); // idempotent
  });
});
