import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/node-test-runner.ts', import.meta.url));
const typescriptHooks = new URL('./fixtures/register-ts.mjs', import.meta.url).href;

/** Runs the suite under plain `node --test`, with hooks that load the TypeScript sources. */
async function nodeTest(subject: 'map' | 'forgetful') {
  const env: NodeJS.ProcessEnv = { ...process.env, CONTRACT_SUBJECT: subject };
  // vitest's worker environment must not leak into the child.
  delete env.VITEST;
  delete env.NODE_OPTIONS;
  try {
    const { stdout } = await run(process.execPath, ['--import', typescriptHooks, '--test', fixture], {
      cwd: root,
      env,
      timeout: 60_000,
    });
    return { code: 0, stdout };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string };
    return { code: failure.code ?? -1, stdout: failure.stdout ?? '' };
  }
}

const count = (stdout: string, what: 'pass' | 'fail') =>
  Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(stdout)?.[1]);

describe('the suite is runner-agnostic', () => {
  it('runs and passes under node:test', { timeout: 60_000 }, async () => {
    const { code, stdout } = await nodeTest('map');
    expect(count(stdout, 'fail'), stdout).toBe(0);
    expect(count(stdout, 'pass')).toBeGreaterThan(15);
    expect(code).toBe(0);
  });

  it('reports failures under node:test', { timeout: 60_000 }, async () => {
    const { code, stdout } = await nodeTest('forgetful');
    expect(code).not.toBe(0);
    expect(count(stdout, 'fail'), stdout).toBeGreaterThan(5);
  });
});
