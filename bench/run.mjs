import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '@org/cache-test-support';
import { createClient } from '@redis/client';
import { aggregate } from './lib/aggregate.mjs';
import { launchWorker } from './lib/launch.mjs';
import { describeRun } from './lib/machine.mjs';
import { baselineFor, pairedBaselineFor, SCENARIOS, TIERS } from './lib/plan.mjs';
import { expiryLine, formatRate, renderReport, targetRows } from './lib/report.mjs';
import { parseSettings } from './lib/settings.mjs';

/**
 * The bench runner: starts (or borrows) a Redis, runs every (subject, scenario, repeat) in a fresh
 * worker process with each tier's baseline bracketing its subjects, then writes the report.
 * Exits non-zero if any run failed or any value did not verify.
 */

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const BENCHMARKS_MD = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const WRITE_PATH_MD = fileURLToPath(new URL('./write-path.md', import.meta.url));
const CAPACITY = 100_000; // every memory tier holds the 100k entries of the heap scenario
const TTL_MS = 600_000; // no entry expires during a run
const WORKER_TIMEOUT_MS = 120_000;

const settings = parseSettings(process.argv.slice(2));
const runId = randomBytes(4).toString('hex');
const log = (line) => process.stderr.write(`${line}\n`);

const scenarios = Object.fromEntries(
  await Promise.all(SCENARIOS.map(async (name) => [name, (await import(`./scenarios/${name}.mjs`)).default])),
);
// Every baseline (the tiered set one, raw @redis/client, is the redis tier's) and every subject.
const subjectIds = [...new Set(Object.values(TIERS).flatMap((tier) => [tier.baseline, ...tier.subjects]))];
const subjects = Object.fromEntries(
  await Promise.all(subjectIds.map(async (id) => [id, (await import(`./subjects/${id}.mjs`)).default])),
);

/** Units of work, in run order: per repeat, tier and scenario, baseline / subjects / baseline. */
function plan() {
  const wanted = (list, value) => list === undefined || list.includes(value);
  const units = [];
  for (let repeat = 1; repeat <= settings.repeats; repeat++) {
    for (const [tier, { subjects: members }] of Object.entries(TIERS)) {
      if (!wanted(settings.tiers, tier)) continue;
      for (const scenario of Object.values(scenarios)) {
        if (!scenario.tiers.includes(tier) || !wanted(settings.scenarios, scenario.name)) continue;
        const chosen = members.filter(
          (id) =>
            (scenario.subjects === undefined || scenario.subjects.includes(id)) &&
            (subjects[id].scenarios === undefined || subjects[id].scenarios.includes(scenario.name)) &&
            (settings.subjects === undefined || settings.subjects.some((name) => id.endsWith(name))),
        );
        if (chosen.length === 0) continue;
        // Rotate the order each repeat so no subject always runs right after the baseline.
        const shift = (repeat - 1) % chosen.length;
        const ordered = [...chosen.slice(shift), ...chosen.slice(0, shift)];
        const baseline = baselineFor(tier, scenario);
        const unit = (subject, role) => ({ repeat, tier, scenario: scenario.name, subject, role });
        if (baseline) units.push(unit(baseline, 'before'));
        for (const subject of ordered) units.push(unit(subject, 'subject'));
        if (baseline && settings.bracket) units.push(unit(baseline, 'after'));
      }
    }
  }
  return units;
}

async function connectRedis() {
  if (process.env.REDIS_URL) {
    const admin = createClient({ url: process.env.REDIS_URL });
    admin.on('error', () => {});
    await admin.connect();
    const version = /^redis_version:(\S+)/m.exec(await admin.info('server'))?.[1] ?? 'unknown';
    return { url: process.env.REDIS_URL, version, source: 'REDIS_URL', admin, stop: async () => {} };
  }
  const server = await startRedisServer();
  const admin = createClient({ url: server.url });
  admin.on('error', () => {});
  await admin.connect();
  return {
    url: server.url,
    version: /^redis_version:(\S+)/m.exec(await admin.info('server'))?.[1] ?? 'unknown',
    source: 'private redis-server',
    admin,
    stop: server.stop,
  };
}

/** On a borrowed Redis, removes every key this run wrote (all start with its run prefix); never FLUSH. */
async function removeOwnKeys(redis) {
  let removed = 0;
  for await (const keys of redis.admin.scanIterator({ MATCH: `bench-${runId}-*`, COUNT: 1000 })) {
    if (keys.length > 0) removed += await redis.admin.del(keys);
  }
  return removed;
}

function describeResult(record) {
  if (record.error) return `FAILED: ${record.error.split('\n')[0]}`;
  const result = record.result;
  if (result.pairedRatio !== undefined)
    return `${formatRate(result.opsPerSec)}; paired with the baseline ${result.pairedRatio.toFixed(2)}x`;
  if (result.opsPerSec !== undefined) return formatRate(result.opsPerSec);
  if (result.fetches !== undefined) return `${result.fetches} fetch(es), ${Math.round(result.wallMs)} ms`;
  if (result.p50Ms !== undefined)
    return `p50 ${result.p50Ms.toFixed(2)} ms (${result.propagated}/${result.rounds})`;
  if (result.propagated === 0) return `not propagated (${result.rounds} rounds)`;
  if (result.bytesPerEntry !== undefined) return `${Math.round(result.bytesPerEntry)} B/entry`;
  if (result.cells !== undefined) return `${result.cells} codec x size cells`;
  if (result.expiryVariants !== undefined) return expiryLine(result);
  if (result.getNoSdkRatio !== undefined) {
    const ratios = (path) =>
      `${result[`${path}NoSdkRatio`].toFixed(2)}x / ${result[`${path}SdkRatio`].toFixed(2)}x`;
    return `instrumented vs plain (no SDK / SDK): get ${ratios('get')}, getOrSet ${ratios('getOrSet')}`;
  }
  return JSON.stringify(result);
}

// Short prefixes (`bench-<run>-<n>`), like an application's: every subject builds `prefix + key`
// per call, and a long prefix would make all of them pay for hashing it.
let sequence = 0;

async function measure(unit, redis) {
  const scenario = scenarios[unit.scenario];
  const subject = subjects[unit.subject];
  const ctx = {
    subject: `${unit.tier}/${subject.name}`,
    redisUrl: redis.url,
    prefix: `bench-${runId}-${++sequence}`,
    capacity: CAPACITY,
    ttlMs: TTL_MS,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    latencySamples: settings.latencySamples,
    entries: settings.entries,
    rounds: settings.rounds,
    quick: settings.quick,
  };
  const profileDir = `${RESULTS}profiles/${unit.subject}.${unit.scenario}.r${unit.repeat}.${unit.role}`;
  const execArgv = settings.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const pairedWith = unit.role === 'subject' ? pairedBaselineFor(unit.tier, scenario) : undefined;
  const launch = (extra = {}) =>
    launchWorker(
      { subject: unit.subject, scenario: unit.scenario, pairedWith, ctx: { ...ctx, ...extra } },
      { execArgv, timeoutMs: WORKER_TIMEOUT_MS },
    );
  let record;
  try {
    const result = scenario.coordinate
      ? await scenario.coordinate(launch, { ...ctx, admin: redis.admin })
      : await launch().result;
    record = { ...unit, prefix: ctx.prefix, result };
  } catch (error) {
    record = {
      ...unit,
      prefix: ctx.prefix,
      error: String(error?.message ?? error),
      verification: error?.verification === true,
    };
  }
  const role = unit.role === 'subject' ? '' : ` (baseline, ${unit.role})`;
  log(`[r${unit.repeat} ${unit.tier} ${unit.scenario}] ${subject.name}${role}: ${describeResult(record)}`);
  return record;
}

/** Runs units with at most `jobs` at a time, keeping their order in the records. */
async function execute(units, redis) {
  const records = new Array(units.length);
  let next = 0;
  const lane = async () => {
    while (next < units.length) {
      const index = next++;
      records[index] = await measure(units[index], redis);
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.jobs, units.length) }, lane));
  return records;
}

const started = performance.now();
const redis = await connectRedis();
const stopRedis = async () => {
  await redis.admin.close().catch(() => {});
  await redis.stop();
};
process.once('SIGINT', () => {
  stopRedis().finally(() => process.exit(130));
});

const run = describeRun(redis.version);
run.redisSource = redis.source;
run.settings = settings;
const units = plan();
log(`bench ${runId}: ${units.length} runs on ${redis.url} (${redis.source}), ${settings.repeats} repeat(s)`);
const records = await execute(units, redis);
run.loadAverageAtEnd = os.loadavg().map((load) => Math.round(load * 100) / 100);
run.durationS = Math.round((performance.now() - started) / 1000);

const cleanupErrors = [];
if (redis.source === 'REDIS_URL') {
  await removeOwnKeys(redis).catch((error) =>
    cleanupErrors.push(`removing this run's keys failed: ${error.message}`),
  );
}
await stopRedis();

const rows = aggregate(records, scenarios);
const subjectsInRun = Object.fromEntries(
  [...new Set(records.map((record) => record.subject))].map((id) => [
    id,
    { ...subjects[id], label: `${subjects[id].name}${subjects[id].baseline ? ' (baseline)' : ''}` },
  ]),
);
const report = renderReport({ run, rows, subjects: subjectsInRun, errors: cleanupErrors });
mkdirSync(RESULTS, { recursive: true });
writeFileSync(`${RESULTS}latest.md`, report);
writeFileSync(
  `${RESULTS}latest.json`,
  `${JSON.stringify({ run, rows, targets: targetRows(rows), records }, null, 2)}\n`,
);
if (settings.writeBenchmarks) {
  const intro = `# Benchmarks\n\nThe latest full run of \`pnpm bench\` (bench/): ours against the raw clients and the peers,\neach configured as its documentation recommends for production. Regenerate with\n\`pnpm bench --write-benchmarks\`; \`pnpm bench --quick\` is the CI smoke run.\n\n`;
  // The write-path analysis is written by hand (profiles, instruction counts): kept in one file,
  // shown in bench/ and after every regenerated report.
  writeFileSync(BENCHMARKS_MD, `${intro}${report}\n${readFileSync(WRITE_PATH_MD, 'utf8')}`);
}
process.stdout.write(report);

const failed = records.filter((record) => record.error !== undefined);
log(`bench ${runId}: ${records.length} runs in ${run.durationS} s, ${failed.length} failed`);
process.exitCode = failed.length > 0 || cleanupErrors.length > 0 ? 1 : 0;
