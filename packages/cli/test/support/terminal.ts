import { execFile } from 'node:child_process';
import { MAIN } from './cachectl.js';

/**
 * Runs cachectl with a pseudo-terminal on stdin, stdout and stderr (util-linux `script`), typing
 * `answer` at it: how the confirmation prompt is reached in a test.
 */
export function cachectlInTerminal(
  args: string[],
  answer: string,
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, MAIN, ...args].map(shellQuote).join(' ');
  return new Promise((resolve) => {
    const child = execFile(
      'script',
      ['--quiet', '--return', '--command', command, '/dev/null'],
      { timeout: 60_000, env: { ...process.env, REDIS_URL: '' } },
      (error, stdout) => {
        resolve({
          code: child.exitCode ?? (error as { code?: number } | null)?.code ?? null,
          output: stdout,
        });
      },
    );
    child.stdin?.end(answer);
  });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
