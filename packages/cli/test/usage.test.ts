import { PassThrough } from 'node:stream';
import { run } from '@org/cache-cli';
import { describe, expect, it } from 'vitest';
import { freePort } from './support/redis.js';

// Command-line validation, in-process through the same run() the binary calls (errors.test.ts
// checks the binary's exit codes): every case is refused with exit 2 before any connection.

async function runInProcess(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const code = await run(argv, {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env,
    signal: new AbortController().signal,
  });
  return { code, stdout: out, stderr: err };
}

describe('usage errors', async () => {
  const dead = `redis://127.0.0.1:${await freePort()}`;
  const target = ['--url', dead, '--prefix', 'app'];
  const cases: Array<[string[], string]> = [
    [['stats', '--url', 'http://127.0.0.1:6379', '--prefix', 'app'], '--url must look like redis://'],
    [['stats', '--url', dead, '--prefix', 'bad:prefix'], '--prefix'],
    [['stats', '--url', dead, '--prefix', ''], '--prefix'],
    [['keys', '*', '--yes', ...target], 'keys does not take --yes'],
    [['keys', ...target], 'keys takes 1 argument, got 0'],
    [['get', 'a', 'b', ...target], 'get takes 1 argument, got 2'],
    [['stats', 'extra', ...target], 'stats takes no arguments, got 1'],
    [['keys', '*', '--limit', '0', ...target], '--limit must be a positive whole number'],
    [['keys', '*', '--limit', '1e3', ...target], '--limit must be a positive whole number'],
    [['invalidate', '--key', 'a', '--tag', 'b', ...target], 'exactly one of'],
    [['invalidate', ...target], 'exactly one of'],
    [['invalidate', '--pattern', '*', '--limit', '5', ...target], 'invalidate does not take --limit'],
    [['watch', ...target], 'watch needs --bus-channel'],
    [['watch', '--stream', 's', '--count', 'many', ...target], '--count must be a positive whole number'],
    [['stats', '--verbose', ...target], "Unknown option '--verbose'"],
    [['stats', '--prefix', ...target.slice(0, 2)], "Option '--prefix' argument"],
    [['frobnicate', ...target], "unknown command 'frobnicate'"],
    [[...target], 'no command given'],
    [['stats', ...target, '--timeout', 'soon'], '--timeout'],
    [['stats', ...target, '--connect-timeout', '0'], '--connect-timeout must be greater than 0'],
  ];

  it.each(cases)('%j', async (argv, message) => {
    const result = await runInProcess(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });
});
