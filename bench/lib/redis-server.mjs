import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';

/**
 * A private redis-server for one bench run: a free port, no persistence, a fresh working dir.
 * Plain-JS counterpart of packages/redis/test/support/redis-server.ts (tests are not imported).
 * The server is ours alone, so other processes' keys and the shared 6379 server are never touched.
 */

const HOST = '127.0.0.1';
const STARTUP_MS = 5_000;
const ATTEMPTS = 4;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** INFO server of whatever answers on the port, or undefined (not up yet). */
async function infoServer(url) {
  const client = createClient({ url, socket: { connectTimeout: 300, reconnectStrategy: false } });
  client.on('error', () => {}); // a refused connection is expected while the server starts
  try {
    await client.connect();
    return await client.info('server');
  } catch {
    return undefined;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

function launch(port, dir) {
  const argv = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'];
  argv.push('--daemonize', 'no', '--protected-mode', 'no', '--dir', dir, '--loglevel', 'warning');
  const child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const launched = { child, output: '', exited: false };
  const append = (chunk) => {
    launched.output = (launched.output + chunk).slice(-4_000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  child.on('error', (error) => {
    // ENOENT (no redis-server on PATH) never emits 'exit'
    append(
      `\n[spawn error] ${error.message}: install Redis 7+ (apt-get install redis-server) or set REDIS_URL`,
    );
    launched.exited = true;
  });
  child.once('exit', () => {
    launched.exited = true;
  });
  return launched;
}

/** Waits until *our* process (matched by pid, not just the port) answers. */
async function waitReady(launched, url) {
  const deadline = Date.now() + STARTUP_MS;
  while (Date.now() < deadline && !launched.exited) {
    const info = await infoServer(url);
    if (info !== undefined && new RegExp(`^process_id:${launched.child.pid}\\s*$`, 'm').test(info)) {
      return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
    }
    await sleep(25);
  }
  return undefined;
}

/**
 * Starts redis-server on a free port (retrying when another process grabs the port first).
 * Resolves to `{ url, port, pid, version, stop() }`; the server is also killed when this process exits.
 */
export async function startRedisServer() {
  const dir = mkdtempSync(join(tmpdir(), 'org-cache-bench-redis-'));
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const port = await freePort();
    const url = `redis://${HOST}:${port}`;
    const launched = launch(port, dir);
    const version = await waitReady(launched, url);
    if (version !== undefined) {
      const kill = () => {
        if (!launched.exited) launched.child.kill('SIGKILL');
      };
      process.once('exit', kill);
      return {
        url,
        port,
        pid: launched.child.pid,
        version,
        async stop() {
          process.off('exit', kill);
          if (!launched.exited) {
            launched.child.kill('SIGTERM');
            const exited = new Promise((resolve) => launched.child.once('exit', resolve));
            await Promise.race([exited, sleep(2_000)]);
            kill();
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (!launched.exited) launched.child.kill('SIGKILL');
    if (!/address already in use/i.test(launched.output) || attempt === ATTEMPTS) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`redis-server did not start on port ${port}:\n${launched.output || '(no output)'}`);
    }
  }
  throw new Error('unreachable');
}
