import { readFileSync, rmSync } from 'node:fs';
import { measurementsFile } from './measurements.js';

/**
 * vitest globalSetup (vitest.workspace.ts): each run starts a fresh measurements file, and the run
 * ends with one line that says where the figures are, instead of figures scattered in the output.
 */
export function setup(): void {
  rmSync(measurementsFile, { force: true });
}

export function teardown(): void {
  let count = 0;
  try {
    count = readFileSync(measurementsFile, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return; // nothing was measured in this run
  }
  console.log(`measurements: ${count} lines in ${measurementsFile} (MEASURE=1 prints them as they come)`);
}
