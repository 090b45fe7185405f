#!/usr/bin/env node
import { run } from './cli.js';

// Ctrl-C once: the command stops cleanly (watch ends with 0, others with 130). Twice: now.
const interrupt = new AbortController();
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) process.exit(code);
    interrupt.abort();
  });
}
// `cachectl keys '*' | head`: the reader went away, which is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  signal: interrupt.signal,
});
process.exitCode = code;
// Everything is closed by now; if a stray handle kept the loop alive, do not hang the shell.
setTimeout(() => process.exit(code), 2_000).unref();
