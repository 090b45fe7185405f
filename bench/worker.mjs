import { withDeadline } from '@org/cache-core/adapter';
import { Inbox } from './lib/inbox.mjs';
import { pairedThroughput } from './lib/paired.mjs';

/**
 * One (subject, scenario, repeat) in a fresh process, so JIT state and heap never leak between
 * subjects. Started by run.mjs with a JSON argument; reports `{ type: 'result' | 'error' }` over IPC.
 * With `pairedWith` (a baseline subject), the scenario's throughput is then also timed against
 * that baseline in this process, in alternating rounds (lib/paired.mjs).
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
const teardownErrors = [];
/** Teardown is not measured and cannot fail the run, but what failed in it is reported. */
async function tearDown(subjectHandle, what) {
  await within(Promise.resolve(subjectHandle.teardown()), TEARDOWN_TIMEOUT_MS, what).catch((error) => {
    teardownErrors.push(`${what}: ${String(error?.message ?? error)}`);
  });
}

try {
  const subject = (await import(`./subjects/${job.subject}.mjs`)).default;
  const scenario = (await import(`./scenarios/${job.scenario}.mjs`)).default;
  handle = await within(subject.setup(job.ctx), SETUP_TIMEOUT_MS, `${job.subject} setup`);
  const result = await scenario.run(handle, job.ctx, ipc);
  if (job.pairedWith !== undefined) Object.assign(result, await pairedWithBaseline(scenario, job.pairedWith));
  await tearDown(handle, 'teardown');
  finish({ type: 'result', result, teardownError: teardownErrors.join('; ') || undefined });
} catch (error) {
  finish({
    type: 'error',
    message: String(error?.stack ?? error),
    verification: error?.verification === true,
  });
}

/** The baseline set up beside the subject (its own key prefix), the paired rounds, its teardown. */
async function pairedWithBaseline(scenario, baselineId) {
  const baselineSubject = (await import(`./subjects/${baselineId}.mjs`)).default;
  const ctx = {
    ...job.ctx,
    subject: `${job.ctx.subject} (paired ${baselineSubject.name})`,
    prefix: `${job.ctx.prefix}b`,
  };
  const baseline = await within(baselineSubject.setup(ctx), SETUP_TIMEOUT_MS, `${baselineId} setup`);
  try {
    const sides = [
      { handle, ctx: job.ctx },
      { handle: baseline, ctx },
    ];
    return await pairedThroughput(scenario, sides, job.ctx);
  } finally {
    await tearDown(baseline, 'baseline teardown');
  }
}
