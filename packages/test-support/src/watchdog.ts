import { type ChildProcess, spawn } from 'node:child_process';

/**
 * A tiny detached node process that holds the pids and directories of the redis-servers this
 * process started, read from a pipe. When the pipe closes (this process exited, however it died:
 * SIGKILL and a worker torn down by the test runner skip 'exit' handlers), it SIGKILLs the pids
 * still listed and removes the directories. One per process, started on first use.
 */
const SCRIPT = `
const { rmSync } = require('node:fs');
const pids = new Set();
const dirs = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    const space = line.indexOf(' ');
    const verb = line.slice(0, space);
    const arg = line.slice(space + 1);
    if (verb === 'pid') pids.add(Number(arg));
    else if (verb === 'unpid') pids.delete(Number(arg));
    else if (verb === 'dir') dirs.add(arg);
    else if (verb === 'undir') dirs.delete(arg);
  }
});
const cleanUp = () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
};
process.stdin.on('end', cleanUp);
process.stdin.on('error', cleanUp);
`;

let child: ChildProcess | undefined;

function send(line: string): void {
  if (!child) {
    child = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    child.on('error', () => {});
    child.stdin?.on('error', () => {});
    // Never keep this process alive for the watchdog's sake.
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
  }
  child.stdin?.write(`${line}\n`);
}

export const watchdog = {
  watch(pid: number): void {
    send(`pid ${pid}`);
  },
  forget(pid: number): void {
    send(`unpid ${pid}`);
  },
  watchDir(dir: string): void {
    send(`dir ${dir}`);
  },
  forgetDir(dir: string): void {
    send(`undir ${dir}`);
  },
};
