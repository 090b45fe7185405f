import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Inbox } from './inbox.mjs';

const WORKER = fileURLToPath(new URL('../worker.mjs', import.meta.url));
const OUTPUT_LIMIT = 8_000;

/**
 * Forks bench/worker.mjs for one job. `result` resolves with the worker's result, or rejects with
 * its error (and the tail of its output) if it fails, dies or overruns `timeoutMs`.
 */
export function launchWorker(job, { execArgv = [], timeoutMs }) {
  const child = fork(WORKER, [JSON.stringify(job)], {
    execArgv: ['--expose-gc', ...execArgv],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const inbox = new Inbox();
  let output = '';
  const append = (chunk) => {
    output = (output + chunk).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let settled = false;
  const result = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`worker ${job.subject}/${job.scenario} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (output.trim()) error.message += `\n--- worker output ---\n${output.trim()}`;
      inbox.fail(error);
      reject(error);
    };
    child.on('message', (message) => {
      if (message?.type === 'result') {
        settled = true;
        clearTimeout(timer);
        resolve({
          ...message.result,
          ...(message.teardownError ? { teardownError: message.teardownError } : {}),
        });
      } else if (message?.type === 'error') {
        fail(Object.assign(new Error(message.message), { verification: message.verification }));
      } else {
        inbox.push(message);
      }
    });
    // 'close', not 'exit': 'exit' can come before the worker's last IPC message has been delivered.
    child.on('close', (code, signal) =>
      fail(new Error(`worker exited (${signal ?? `code ${code}`}) without a result`)),
    );
  });
  result.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  return {
    result,
    send(message) {
      if (child.connected) child.send(message);
    },
    next: (type, match, ms) => inbox.next(type, match, ms),
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
