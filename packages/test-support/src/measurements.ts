import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Figures the tests measure (latencies, fetch counts, recovery times) go to one file, not to the
 * test output where `[failure] ...` lines read like failures: `test-artifacts/measurements.log` at
 * the repository root (`MEASUREMENTS_FILE` to choose another). `pnpm test` starts it afresh;
 * `MEASURE=1` also prints each figure, labelled `[measure]`.
 */
export const measurementsFile =
  process.env.MEASUREMENTS_FILE ||
  // src/ and dist/ are both one level below packages/test-support.
  fileURLToPath(new URL('../../../test-artifacts/measurements.log', import.meta.url));

/** Records one measurement (one or more lines of text), with the time and the process. */
export function measure(text: string): void {
  const stamp = `${new Date().toISOString()} pid ${process.pid}`;
  const lines = text.split('\n').map((line) => `${stamp} ${line}`);
  try {
    mkdirSync(dirname(measurementsFile), { recursive: true });
    appendFileSync(measurementsFile, `${lines.join('\n')}\n`);
  } catch (error) {
    // A read-only checkout must not fail the test that measured: say so once, in the output.
    if (!warned) console.warn(`[measure] cannot write ${measurementsFile}: ${(error as Error).message}`);
    warned = true;
  }
  if (process.env.MEASURE === '1') console.log(`[measure] ${text}`);
}

let warned = false;

/** Records one measured figure, labelled: `report('worst get', 12.34)` → `worst get: 12.3 ms`. */
export function report(
  label: string,
  value: number | string,
  unit = typeof value === 'number' ? 'ms' : '',
): void {
  const shown = typeof value === 'number' ? String(Math.round(value * 10) / 10) : value;
  measure(`${label}: ${shown}${unit ? ` ${unit}` : ''}`);
}
