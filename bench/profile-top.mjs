import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

/**
 * Top self-time functions of a V8 .cpuprofile (as written by `node bench/run.mjs --cpu-prof`),
 * with file:line, so a slow hot path can be pinned to the code that costs. With `--total`, ranks
 * by inclusive time (the function and what it calls) instead.
 *
 *   node bench/profile-top.mjs bench/results/profiles/<run>/<file>.cpuprofile [count] [--total]
 */

const total = process.argv.includes('--total');
const [file, countText = '25'] = process.argv.slice(2).filter((arg) => arg !== '--total');
if (!file) {
  process.stderr.write('usage: node bench/profile-top.mjs <file.cpuprofile> [count]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfTicks = new Map();
for (const id of profile.samples) selfTicks.set(id, (selfTicks.get(id) ?? 0) + 1);

const samples = profile.samples.length;
const nameOf = ({ callFrame }) => {
  const where = callFrame.url
    ? `${relative(process.cwd(), callFrame.url.replace(/^file:\/\//, ''))}:${callFrame.lineNumber + 1}`
    : '';
  return `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
};
const rows = new Map();
if (total) {
  // Inclusive ticks: each sample counts once for every distinct function on its stack.
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  for (const [id, ticks] of selfTicks) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) seen.add(nameOf(byId.get(at)));
    for (const name of seen) rows.set(name, (rows.get(name) ?? 0) + ticks);
  }
} else {
  for (const [id, ticks] of selfTicks) {
    const name = nameOf(byId.get(id));
    rows.set(name, (rows.get(name) ?? 0) + ticks);
  }
}
const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
const busy = [...selfTicks]
  .filter(([id]) => !idle.has(byId.get(id).callFrame.functionName))
  .reduce((sum, [, ticks]) => sum + ticks, 0);
process.stdout.write(
  `${samples} samples, ${busy} outside idle/program/gc${total ? '; inclusive times' : ''}\n`,
);
for (const [name, ticks] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, Number(countText))) {
  process.stdout.write(`${((ticks / samples) * 100).toFixed(1).padStart(5)}%  ${name}\n`);
}
