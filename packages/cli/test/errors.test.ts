import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachectl } from './support/cachectl.js';
import { freePort, type RedisServer, startRedisServer } from './support/redis.js';
import { Sdk } from './support/sdk.js';

// The failures a script or an operator meets, each with its documented exit code and a message
// that says what to do. Independent runs go in parallel: each is a Node process.

let redis: RedisServer;
const sdk = new Sdk(() => redis.url);
const PREFIX = 'errs';

beforeAll(async () => {
  redis = await startRedisServer();
  await sdk.cache(PREFIX).set('orders:detail:1', { id: 1 });
}, 30_000);

afterAll(async () => {
  await sdk.closeAll();
  await redis?.stop();
});

const lastJsonLine = (stderr: string) => JSON.parse(stderr.trim().split('\n').at(-1) as string);

describe('an unreachable Redis: exit 4 within the connect timeout, never a hang', () => {
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers: a half-dead host, where node-redis would wait forever.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('a refused connection, a silent server, a rejected password, and passwords kept out of messages', async () => {
    const closed = await freePort();
    // Password set after start-up: the harness probes readiness without credentials.
    const guarded = await startRedisServer();
    const admin = sdk.store(guarded.url);
    await admin.connection.command(['CONFIG', 'SET', 'requirepass', 'right-password']);
    const [refused, hanging, secret, rejected] = await Promise.all([
      cachectl(['stats', '--url', `redis://127.0.0.1:${closed}`, '--prefix', PREFIX]),
      cachectl([
        'keys',
        '*',
        '--json',
        '--url',
        `redis://127.0.0.1:${silentPort}`,
        '--prefix',
        PREFIX,
        '--connect-timeout',
        '500ms',
      ]),
      cachectl(['stats', '--url', `redis://ops:s3cret@127.0.0.1:${closed}`, '--prefix', PREFIX]),
      cachectl([
        'stats',
        '--url',
        `redis://default:wrong-password@127.0.0.1:${guarded.port}`,
        '--prefix',
        PREFIX,
      ]),
    ]);
    await guarded.stop();
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${closed}`);
    expect(refused.stderr).toContain('ECONNREFUSED');

    expect(hanging.signal).toBeNull(); // ended by itself, not by the test's kill timer
    expect(hanging.code).toBe(4);
    expect(lastJsonLine(hanging.stderr)).toEqual({
      error: {
        code: 'E_UNREACHABLE',
        exitCode: 4,
        message: expect.stringContaining('within 500 ms'),
        hint: expect.any(String),
      },
    });

    expect(secret.code).toBe(4);
    expect(secret.stderr).not.toContain('s3cret');
    expect(secret.stderr).toContain('redis://ops:***@127.0.0.1');

    expect(rejected.code).toBe(4);
    expect(rejected.stderr).toMatch(/WRONGPASS|invalid username-password/);
    expect(rejected.stderr).not.toContain('wrong-password');
  });
});

describe('usage errors: exit 2 before any connection', () => {
  // The whole table of usage errors runs in-process in usage.test.ts; these go through the binary.
  it('missing --prefix, missing URL, several URLs without --cluster', async () => {
    // A dead port: a usage error must be reported without trying to connect (else it would be 4).
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const cases: Array<[string[], string]> = [
      [['stats', '--url', dead], '--prefix is required'],
      [['stats', '--prefix', PREFIX], 'no Redis URL'],
      [['stats', '--url', dead, '--url', dead, '--prefix', PREFIX], 'add --cluster'],
    ];
    const results = await Promise.all(cases.map(([args]) => cachectl(args)));
    results.forEach((result, index) => {
      const [args, message] = cases[index] as [string[], string];
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(message);
      expect(result.stdout, args.join(' ')).toBe('');
    });
  });

  it('--json makes usage errors JSON on stderr too; --help and --version exit 0', async () => {
    const [usage, help, commandHelp, version] = await Promise.all([
      cachectl(['stats', '--json']),
      cachectl(['--help']),
      cachectl(['invalidate', '--help']),
      cachectl(['--version']),
    ]);
    expect(usage.code).toBe(2);
    expect(lastJsonLine(usage.stderr).error).toMatchObject({ code: 'E_USAGE', exitCode: 2 });
    expect(help.code).toBe(0);
    for (const command of ['stats', 'keys', 'get', 'memory', 'invalidate', 'watch']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\s`, 'm'));
    }
    expect(help.stdout).toContain(
      'Exit codes: 0 ok, 1 failure, 2 usage, 3 invalidInput, 4 unreachable, 5 noMatch, 6 aborted',
    );
    expect(commandHelp.stdout).toContain(
      'Usage: cachectl invalidate (--key K... | --tag T... | --pattern P...)',
    );
    expect(version.stdout).toMatch(/^cachectl \d+\.\d+\.\d+\n$/);
  });
});

describe('bad input, nothing matched', () => {
  it('a bad pattern exits 3 with E_INVALID_PATTERN, for keys, memory and invalidate alike', async () => {
    const base = ['--url', redis.url, '--prefix', PREFIX, '--json'];
    const results = await Promise.all([
      cachectl(['keys', 'orders:[abc', ...base]),
      cachectl(['memory', 'orders\\', ...base]),
      cachectl(['invalidate', '--pattern', 'orders:[', '--yes', ...base]),
    ]);
    for (const result of results) {
      expect(result.code).toBe(3);
      expect(lastJsonLine(result.stderr).error).toMatchObject({ code: 'E_INVALID_PATTERN', exitCode: 3 });
    }
    expect(await sdk.cache(PREFIX).get('orders:detail:1')).toEqual({ id: 1 });
  });

  it('watch --stream on a key that is not a stream exits 3 with E_NOT_A_STREAM', async () => {
    const result = await cachectl([
      'watch',
      '--stream',
      `${PREFIX}:orders:detail:1`,
      '--url',
      redis.url,
      '--prefix',
      PREFIX,
      '--json',
    ]);
    expect(result.code).toBe(3);
    expect(lastJsonLine(result.stderr).error).toMatchObject({
      code: 'E_NOT_A_STREAM',
      message: expect.stringContaining('is a Redis string, not a stream'),
    });
  });

  it('a prefix with no entries exits 5 and names the prefixes the database does use', async () => {
    const [stats, keys] = await Promise.all([
      cachectl(['stats', '--url', redis.url, '--prefix', 'errz']),
      cachectl(['keys', '*', '--url', redis.url, '--prefix', 'errz', '--json']),
    ]);
    expect(stats.code).toBe(5);
    expect(stats.stderr).toContain("the prefix 'errz' has no entries");
    expect(stats.stderr).toContain(`prefixes seen in a sample of this database: ${PREFIX} (`);
    expect(keys.code).toBe(5);
    expect(lastJsonLine(keys.stderr).error).toMatchObject({
      code: 'E_NO_MATCH',
      exitCode: 5,
      hint: expect.stringContaining(PREFIX),
    });
  });

  it('REDIS_URL is used when --url is not given', async () => {
    const result = await cachectl(['keys', '*', '--prefix', PREFIX, '--json'], {
      env: { REDIS_URL: redis.url },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ key: 'orders:detail:1' });
  });
});
