/**
 * Command-line options. A full run (3 repeats) is the published one; --quick is the CI smoke run:
 * every subject and scenario once, short time boxes, parallel workers, well under a minute.
 */

const FULL = {
  quick: false,
  repeats: 3,
  durationMs: 1_000,
  warmupMs: 300,
  latencySamples: 20_000,
  entries: 100_000,
  // A p99 of 40 rounds was the worst round; 200 make it a percentile (~5 s per repeat and subject).
  rounds: 200,
  jobs: 1,
  bracket: true,
};

const QUICK = {
  quick: true,
  repeats: 1,
  durationMs: 50,
  warmupMs: 20,
  latencySamples: 500,
  entries: 5_000,
  rounds: 3,
  // Figures from a smoke run mean nothing, so workers may share the CPU and skip the closing baseline.
  jobs: 3,
  bracket: false,
};

const USAGE = `usage: node bench/run.mjs [--quick] [--repeats=N] [--duration=MS] [--rounds=N] [--jobs=N]
       [--tier=memory,redis,tiered] [--scenario=get-hit,...] [--subject=ours,...]
       [--cpu-prof] [--write-benchmarks]`;

export function parseSettings(argv) {
  const flags = new Map();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    flags.set(match[1], match[2] ?? true);
  }
  const known = [
    'quick',
    'repeats',
    'duration',
    'rounds',
    'jobs',
    'tier',
    'scenario',
    'subject',
    'cpu-prof',
    'write-benchmarks',
  ];
  for (const name of flags.keys())
    if (!known.includes(name)) throw new Error(`unknown option --${name}\n${USAGE}`);
  const settings = { ...(flags.has('quick') ? QUICK : FULL) };
  if (flags.has('repeats')) settings.repeats = positive(flags.get('repeats'), 'repeats');
  if (flags.has('duration')) settings.durationMs = positive(flags.get('duration'), 'duration');
  if (flags.has('rounds')) settings.rounds = positive(flags.get('rounds'), 'rounds');
  if (flags.has('jobs')) settings.jobs = positive(flags.get('jobs'), 'jobs');
  settings.tiers = list(flags.get('tier'));
  settings.scenarios = list(flags.get('scenario'));
  settings.subjects = list(flags.get('subject'));
  settings.cpuProf = flags.has('cpu-prof');
  settings.writeBenchmarks = flags.has('write-benchmarks');
  // BENCHMARKS.md holds a complete full run only.
  const partial = settings.tiers || settings.scenarios || settings.subjects || settings.quick;
  if (settings.writeBenchmarks && partial) throw new Error('--write-benchmarks needs a full, unfiltered run');
  return settings;
}

function positive(text, name) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
  return value;
}

function list(value) {
  return typeof value === 'string' && value.length > 0 ? value.split(',') : undefined;
}
