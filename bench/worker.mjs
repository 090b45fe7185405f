import { withDeadline } from '@org/cache-core/adapter';
import { Inbox } from './lib/inbox.mjs';

/**
 * One (subject, scenario, repeat) in a fresh process, so JIT state and heap never leak between
 * subjects. Started by run.mjs with a JSON argument; reports `{ type: 'result' | 'error' }` over IPC.
 */

const SETUP_TIMEOUT_MS = 15_000;
const TEARDOWN_TIMEOUT_MS = 3_000;

const job = JSON.parse(process.argv[2]);
const inbox = new Inbox();
process.on('message', (message) => inbox.push(message));
const ipc = { send: (message) => process.send(message), next: (...args) => inbox.next(...args) };

const within = (promise, ms, what) =>
  withDeadline(promise, ms, () => new Error(`${what} took longer than ${ms} ms`));

function finish(message) {
  // Exit without waiting for sockets or timers the libraries leave behind: teardown is not measured.
  process.send(message, () => process.exit(message.type === 'error' ? 1 : 0));
}

let handle;
try {
  const subject = (await import(`./subjects/${job.subject}.mjs`)).default;
  const scenario = (await import(`./scenarios/${job.scenario}.mjs`)).default;
  handle = await within(subject.setup(job.ctx), SETUP_TIMEOUT_MS, `${job.subject} setup`);
  const result = await scenario.run(handle, job.ctx, ipc);
  let teardownError;
  await within(Promise.resolve(handle.teardown()), TEARDOWN_TIMEOUT_MS, 'teardown').catch((error) => {
    teardownError = String(error?.message ?? error);
  });
  finish({ type: 'result', result, teardownError });
} catch (error) {
  finish({
    type: 'error',
    message: String(error?.stack ?? error),
    verification: error?.verification === true,
  });
}
