import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BffClient } from './support/bff-client.js';
import { asCometd, changeEvent } from './support/change-events.js';
import { fetchJson, postJson, rawGet, waitFor } from './support/http.js';
import { type BffProcess, MAIN, startBff } from './support/service.js';

describe('the dashboard files', { timeout: 30_000 }, () => {
  let dir: string;
  let service: BffProcess;

  beforeAll(async () => {
    // public/ next to a file that must never be served.
    dir = await mkdtemp(join(tmpdir(), 'bff-public-'));
    const publicDir = join(dir, 'public');
    await mkdir(join(publicDir, 'js'), { recursive: true });
    await writeFile(join(dir, 'secret.txt'), 'TOP SECRET');
    await writeFile(join(publicDir, 'dashboard.html'), '<!doctype html><title>dash</title>');
    await writeFile(join(publicDir, 'js', 'app.js'), 'console.log(1);');
    await writeFile(join(publicDir, 'dashboard.css'), 'body{}');
    await writeFile(join(publicDir, 'data.json'), '{}');
    service = await startBff({ PUBLIC_DIR: publicDir });
  }, 30_000);

  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves dashboard.html at /dashboard and the assets with their content types', async () => {
    const cases: Array<[string, string, string]> = [
      ['/dashboard', 'text/html; charset=utf-8', '<!doctype html><title>dash</title>'],
      ['/dashboard/', 'text/html; charset=utf-8', '<!doctype html><title>dash</title>'],
      ['/dashboard/js/app.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['/dashboard/dashboard.css', 'text/css; charset=utf-8', 'body{}'],
      ['/dashboard/data.json', 'application/json; charset=utf-8', '{}'],
    ];
    for (const [path, type, body] of cases) {
      const response = await fetch(`${service.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe(type);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await response.text(), path).toBe(body);
    }
    const root = await fetch(`${service.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard');
  });

  it('never serves a file outside public/, whatever the path', async () => {
    for (const path of [
      '/dashboard/../secret.txt',
      '/dashboard/..%2fsecret.txt',
      '/dashboard/%2e%2e/secret.txt',
      '/dashboard/%2e%2e%2fsecret.txt',
      '/dashboard/js/../../secret.txt',
      '/dashboard/..%5csecret.txt',
      '/dashboard/%2fetc%2fpasswd',
      '/dashboard//etc/passwd',
      '/dashboard/js',
      '/dashboard/nope.js',
      '/dashboard/app.js%00.html',
    ]) {
      const answer = await rawGet(service.url, path);
      expect(answer.body, path).not.toContain('TOP SECRET');
      expect(answer.body, path).not.toContain('root:');
      expect([400, 404], path).toContain(answer.status);
      expect(answer.contentType, path).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body).error.code, path).toMatch(/^(NOT_FOUND|INVALID_PATH)$/);
    }
  });

  it('serves the real dashboard page from the package by default', async () => {
    const real = await startBff();
    try {
      const response = await fetch(`${real.url}/dashboard`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await response.text()).toMatch(/<html/i);
    } finally {
      await real.stop();
    }
  });
});

describe('the BFF around the edges', { timeout: 30_000 }, () => {
  let service: BffProcess;
  let client: BffClient;

  beforeAll(async () => {
    service = await startBff({ WHMCS_FAILURE_RATE: '1', MAX_BODY_BYTES: '2048' });
    client = new BffClient(service.url);
  }, 30_000);

  afterAll(async () => {
    await service?.stop();
  });

  it('answers 502 JSON when WHMCS fails and nothing is cached, and counts the failure', async () => {
    const { status, body } = await fetchJson(`${service.url}/api/invoices/77`);
    expect(status).toBe(502);
    expect(body).toEqual({ error: { code: 'UPSTREAM_ERROR', message: expect.stringContaining('whmcs') } });
    const whmcs = (await client.dashboard()).upstream.whmcs;
    expect(whmcs.failures).toBeGreaterThanOrEqual(1);
    expect(whmcs.calls).toBeGreaterThanOrEqual(1);
    expect((await client.dashboard()).buckets['invoices:invoices']?.fetchErrors).toBeGreaterThanOrEqual(1);
  });

  it('answers 404 JSON for an order that is not the account’s, even when it is cached', async () => {
    const { orders } = await client.getOk<{ orders: Array<{ id: string }> }>('/api/orders/001OWNER');
    const orderId = orders[0]?.id as string;
    await client.getOk(`/api/orders/001OWNER/${orderId}`);
    const { status, body } = await fetchJson(`${service.url}/api/orders/001OTHER/${orderId}`);
    expect(status).toBe(404);
    expect(body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('accepts the CometD shape of a change event too', async () => {
    const { orders } = await client.getOk<{ orders: Array<{ id: string }> }>('/api/orders/001COMETD');
    await client.sendChangeEvent(asCometd(changeEvent({ entity: 'Order', ids: [orders[0]?.id as string] })));
    expect(await client.callsFor('/api/orders/001COMETD')).toBe(1);
  });

  it('treats a re-delivered change event as a duplicate', async () => {
    const event = changeEvent({ entity: 'Account', ids: ['001DUP'], changedFields: ['Name'] });
    const first = await postJson<{ outcome: { status: string } }>(`${service.url}/dev/cdc`, event);
    const again = await postJson<{ outcome: { status: string } }>(`${service.url}/dev/cdc`, event);
    expect(first.body.outcome.status).toBe('applied');
    expect(again.body.outcome.status).toBe('duplicate');
  });

  it('honours MAX_BODY_BYTES', async () => {
    const small = await postJson(`${service.url}/dev/cdc`, { padding: 'x'.repeat(1_500) });
    expect(small.status).toBe(400); // read, and refused as an event
    const large = await postJson(`${service.url}/dev/cdc`, { padding: 'x'.repeat(3_000) });
    expect(large.status).toBe(413);
  });

  it('answers a malformed HTTP request with 400 JSON', async () => {
    const { hostname, port } = new URL(service.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => socket.write('NONSENSE\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString('utf8');
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('"error":{"code":"BAD_REQUEST"');
  });

  it('runs the CDC simulator: realistic events are applied or skipped until it is stopped', async () => {
    const before = (await client.dashboard()).health.subscriber.counters;
    const started = await postJson<{ running: boolean; rate: number; until?: string }>(
      `${service.url}/dev/cdc/simulator`,
      { rate: 100, durationMs: 20_000 },
    );
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ running: true, rate: 100 });
    expect(typeof started.body.until).toBe('string');
    const counters = await waitFor('the simulator to produce applied and skipped events', async () => {
      const now = (await client.dashboard()).health.subscriber.counters;
      return now.processed - before.processed >= 20 && now.skipped > before.skipped ? now : undefined;
    });
    expect(counters.tagsInvalidated).toBeGreaterThan(before.tagsInvalidated);
    // The simulator's sequence puts a CREATE in any 16 consecutive events (they are up to 16 steps
    // apart): the newest 10 alone may hold none, whatever the machine's speed; 20 always do.
    const newest = (await client.dashboard()).invalidations.recent.slice(0, 20);
    expect(new Set(newest.map((entry) => entry.entity))).toEqual(new Set(['Order', 'Product2']));
    expect(new Set(newest.map((entry) => entry.kind))).toEqual(new Set(['update', 'create']));

    const stopped = await fetchJson<{ running: boolean; emitted: number; failed: number }>(
      `${service.url}/dev/cdc/simulator`,
      { method: 'DELETE' },
    );
    expect(stopped.status).toBe(200);
    expect(stopped.body.running).toBe(false);
    expect(stopped.body.emitted).toBeGreaterThanOrEqual(10);
    expect(stopped.body.failed).toBe(0);
    const status = await fetchJson<{ running: boolean }>(`${service.url}/dev/cdc/simulator`);
    expect(status.body.running).toBe(false);
  });

  it('stops gracefully on SIGTERM', async () => {
    const own = await startBff();
    await fetchJson(`${own.url}/api/orders/001BYE`);
    const exit = await own.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(own.output()).toContain('SIGTERM: shutting down');
    expect(own.output()).toContain('stopped');
  });
});

describe('start-up configuration', { timeout: 30_000 }, () => {
  const run = (env: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [MAIN], {
        env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      // A hang guard, not a target: the service refuses the variable before Nest starts, but
      // loading its modules took over 10 s once on a 2-core machine at load ~14 (a suite run
      // beside the bench), and this bound then killed a child that was about to exit 1.
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });

  it('refuses a bad variable at start-up, naming it', async () => {
    for (const [env, name] of [
      [{ SERVICES_CACHE_SAFETY_TTL_SECONDS: 'soon' }, 'SERVICES_CACHE_SAFETY_TTL_SECONDS'],
      [{ REDIS_URL: 'http://nope' }, 'REDIS_URL'],
      [{ CACHE_TIER: 'tiered' }, 'CACHE_TIER'],
      [{ WHMCS_FAILURE_RATE: '2' }, 'WHMCS_FAILURE_RATE'],
      [{ PORT: 'eighty' }, 'PORT'],
    ] as const) {
      const { code, output } = await run(env);
      expect(code, name).toBe(1);
      expect(output, name).toContain(name);
      expect(output, name).not.toContain('BFF listening');
    }
    // Five start-ups one after another, each bounded at 30 s above.
  }, 160_000);
});
