import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchJson, waitFor } from './support/http.js';
import { MAIN, startBff } from './support/service.js';

// Start-up and shutdown as an operator meets them, on the built service in child processes.

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the service with `env` until it exits by itself (SIGKILL after 15 s: a hang fails the test). */
function runToExit(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<Exit>;
} {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', WHMCS_FAILURE_RATE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
  return { child, output: () => output, exited };
}

/** A port nothing listens on: one the system handed out, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('start-up and shutdown', { timeout: 45_000 }, () => {
  let occupied: Server;
  let occupiedPort: number;

  beforeAll(async () => {
    occupied = createServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    occupiedPort = (occupied.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => occupied.close(() => resolve()));
  });

  it('says in one line that PORT is in use, without a stack, and exits non-zero', async () => {
    const { exited } = runToExit({ PORT: String(occupiedPort), HOST: '127.0.0.1' });
    const { code, output } = await exited;
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines, output).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^PORT ${occupiedPort} is already in use on 127\\.0\\.0\\.1`));
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toContain('BFF listening');
  });

  it('ends with exit code 0 after a graceful close on Ctrl-C (SIGINT)', async () => {
    const { child, output, exited } = runToExit({ PORT: '0' });
    const base = await waitFor(
      'the banner',
      async () => /BFF listening on (http:\/\/\S+)/.exec(output())?.[1],
    );
    expect((await fetchJson(`${base}/api/orders/001CTRLC`)).status).toBe(200);
    child.kill('SIGINT');
    const exit = await exited;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.output).toContain('SIGINT: shutting down');
    expect(exit.output).toContain('stopped');
  });

  it('says at start-up that REDIS_URL does not answer, and starts degraded', async () => {
    const port = await closedPort();
    const service = await startBff({ REDIS_URL: `redis://127.0.0.1:${port}`, CDC_SOURCE: 'in-process' });
    try {
      const lines = service.output().split('\n');
      const said = lines.filter((line) => line.includes('REDIS_URL'));
      expect(said, service.output()).toHaveLength(1);
      expect(said[0]).toContain(`redis://127.0.0.1:${port}`);
      expect(said[0]).toContain('not reachable');
      expect(service.output()).not.toMatch(/^\s+at /m);
      // Degraded, as the service is during an outage: health says so, reads go to the source.
      expect((await fetchJson(`${service.url}/health`)).status).toBe(503);
      expect((await fetchJson(`${service.url}/api/orders/001NOREDIS`)).status).toBe(200);
    } finally {
      expect((await service.stop()).code).toBe(0);
    }
  });
});
