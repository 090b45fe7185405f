import { CODECS, SIZES } from '../scenarios/codecs.mjs';
import { FETCH_MS } from '../scenarios/hot-key-expiry.mjs';
import { TARGETS, TIERS } from './plan.mjs';

/** The markdown report: one table per tier, the targets, how each subject is set up, the environment. */

const COLUMNS = [
  { scenario: 'get-hit', title: 'get hit, 1 caller', cell: throughput },
  { scenario: 'get-hit', title: 'get latency p50 / p99', cell: latencyCell },
  { scenario: 'get-hit-64', title: 'get hit, 64 callers', cell: throughput },
  { scenario: 'set', title: 'set, 1 caller', cell: throughput },
  { scenario: 'get-or-set-hit', title: 'getOrSet hit', cell: throughput },
  { scenario: 'stampede', title: 'stampede 1000 callers: fetches, wall', cell: stampedeCell },
  {
    scenario: 'stampede-4p',
    title: 'stampede 4 processes: fetches',
    cell: (row) => `${row.figures.fetches}`,
  },
  { scenario: 'propagation', title: 'invalidation propagation p50 / p99', cell: propagationCell },
  {
    scenario: 'propagation-raw-set',
    title: 'plain SET by a non-SDK client -> seen p50 / p99',
    cell: propagationCell,
  },
  { scenario: 'get-hit-tagged', title: 'get hit, 3 tags, 1 caller', cell: throughput },
  { scenario: 'memory-100k', title: 'heap per entry', cell: heapCell },
  { scenario: 'cdc-throughput', title: 'CDC events applied/s', cell: throughput },
  { scenario: 'cdc-latency', title: 'CDC event-to-miss p50 / p99, 2 processes', cell: propagationCell },
  {
    scenario: 'instrumentation-overhead',
    title: 'instrumentCache() get / getOrSet hit vs plain: no SDK, SDK reader',
    cell: overheadCell,
  },
  {
    scenario: 'batch-page',
    title: '100-key page, 50% cached: upstream calls, wall; batch / 100 getOrSet',
    cell: batchPageCell,
  },
  {
    scenario: 'hot-key-expiry',
    title:
      'hot key crossing its ttl, 64 callers x 4 processes: per variant, max fetches per refresh, fetches per ttl; p50 / p99 vs a hit',
    cell: (row) => expiryLine(row.figures),
  },
];

export function formatRate(value) {
  if (value === undefined) return '-';
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M/s`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k/s`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k/s`;
  return `${Math.round(value)}/s`;
}

function formatRatio(row) {
  if (row.ratio === undefined) return '';
  if (row.baseline)
    return row.drift === undefined ? ' (baseline)' : ` (baseline, drift ${signed(row.drift)})`;
  return ` (${row.ratio.toFixed(row.ratio < 0.1 ? 3 : 2)}x)`;
}

function signed(fraction) {
  const percent = Math.round(fraction * 100);
  return `${percent >= 0 ? '+' : ''}${percent}%`;
}

function micros(value) {
  if (value === undefined) return '-';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : Math.round(value).toString();
}

function throughput(row) {
  return `${formatRate(row.figures.opsPerSec)}${formatRatio(row)}`;
}

function latencyCell(row) {
  return `${micros(row.figures.p50Us)} / ${micros(row.figures.p99Us)} µs`;
}

function stampedeCell(row) {
  return `${row.figures.fetches}, ${Math.round(row.figures.wallMs)} ms`;
}

function propagationCell(row) {
  const { propagated, rounds, p50Ms, p99Ms, timeouts, timeoutMs, regressions, misses, ackP50Ms, ackP99Ms } =
    row.figures;
  const cold = misses ? `; ${misses} misses while its L1 filled from L2` : '';
  if (!propagated) return `never (0 of ${rounds} rounds within ${timeoutMs} ms${cold})`;
  const late = timeouts ? `, ${timeouts} of ${rounds} rounds over ${timeoutMs} ms` : '';
  const back = regressions ? `, ${regressions} stale reads after the new value` : '';
  const f = row.figures;
  const ack =
    ackP50Ms === undefined
      ? ''
      : ` (the write itself ${ackP50Ms.toFixed(2)} / ${ackP99Ms.toFixed(2)}; from its acknowledgement ${f.afterAckP50Ms.toFixed(2)} / ${f.afterAckP99Ms.toFixed(2)})`;
  return `${p50Ms.toFixed(2)} / ${p99Ms.toFixed(2)} ms${ack}${late}${back}${cold}`;
}

function overheadCell(row) {
  const f = row.figures;
  const pair = (path) =>
    `${path} ${formatRate(f[`${path}PlainOpsPerSec`])}: ${f[`${path}NoSdkRatio`].toFixed(2)}x, ${f[`${path}SdkRatio`].toFixed(2)}x`;
  return `${pair('get')}; ${pair('getOrSet')}`;
}

function batchPageCell(row) {
  const f = row.figures;
  const singles = `${f.singlesUpstreamCalls} calls, ${f.singlesWallMs.toFixed(1)} ms`;
  if (f.batchWallMs === undefined) return `no batch load / ${singles}`;
  return `${f.batchUpstreamCalls} call(s), ${f.batchWallMs.toFixed(1)} ms / ${singles} (${f.speedup.toFixed(1)}x)`;
}

/** hot-key-expiry, per freshness variant: fetches per refresh and per ttl period, latency vs a hit. */
export function expiryLine(figures) {
  const variants = Object.keys(figures)
    .filter((field) => field.endsWith('.maxPerRefresh'))
    .map((field) => field.slice(0, -'.maxPerRefresh'.length));
  const ms = (value) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
  return variants
    .map((variant) => {
      const f = (name) => figures[`${variant}.${name}`];
      // Calls as long as the fetch, hot key / hit key, and hit-key reads answered as misses: shown when any.
      const slow =
        f('waited') || f('hitWaited') ? `, ${f('waited')} / ${f('hitWaited')} calls >= ${FETCH_MS} ms` : '';
      const missed = f('hitFetches') ? `, ${f('hitFetches')} fetches of the hit key` : '';
      const latency = `${ms(f('p50Ms'))} / ${ms(f('p99Ms'))} ms vs hit ${ms(f('hitP50Ms'))} / ${ms(f('hitP99Ms'))}`;
      return `${variant}: ${f('maxPerRefresh')} max/refresh, ${f('fetchesPerPeriod').toFixed(2)}/ttl; ${latency} (p99 ${f('p99Ratio').toFixed(2)}x${slow}${missed})`;
    })
    .join('; ');
}

function heapCell(row) {
  const ratio = row.baseline ? ' (baseline)' : row.ratio === undefined ? '' : ` (${row.ratio.toFixed(2)}x)`;
  return `${Math.round(row.figures.bytesPerEntry).toLocaleString('en-US')} B${ratio}`;
}

function cellFor(rows, subject, column, failures) {
  const row = rows.find(
    (candidate) => candidate.subject === subject && candidate.scenario === column.scenario,
  );
  if (row === undefined) return '';
  if (row.errors.length > 0) {
    if (!failures.some((failure) => failure.row === row))
      failures.push({ row, subject, scenario: column.scenario, errors: row.errors });
    return `FAIL (${row.errors.length} of ${row.runs} runs)`;
  }
  return column.cell(row);
}

function tierTable(tier, rows, labels, failures) {
  const tierRows = rows.filter((row) => row.tier === tier);
  const columns = COLUMNS.filter((column) => tierRows.some((row) => row.scenario === column.scenario));
  const subjects = [
    ...new Set([...tierRows.filter((row) => row.baseline), ...tierRows].map((row) => row.subject)),
  ];
  const lines = [
    `| ${tier} | ${columns.map((column) => column.title).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const subject of subjects) {
    const cells = columns.map((column) => cellFor(tierRows, subject, column, failures));
    lines.push(`| ${labels[subject]} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function targetRows(rows) {
  return TARGETS.map((target) => {
    const row = rows.find(
      (candidate) =>
        candidate.tier === target.tier &&
        candidate.scenario === target.scenario &&
        candidate.subject === (target.subject ?? `${target.tier}-ours`),
    );
    if (row === undefined) return { ...target, status: 'not run', value: '-' };
    if (row.errors.length > 0) return { ...target, status: 'FAILED', value: 'error' };
    if (target.maxMs !== undefined) {
      const ms = row.figures[target.figure];
      const met = row.figures.timeouts === 0 && ms < target.maxMs;
      const late = row.figures.timeouts > 0 ? `, ${row.figures.timeouts} round(s) never seen` : '';
      return { ...target, status: met ? 'met' : 'missed', value: `${ms?.toFixed(2)} ms${late}` };
    }
    if (target.maxRatio !== undefined) {
      const ratio = row.figures[target.figure];
      return {
        ...target,
        status: ratio <= target.maxRatio ? 'met' : 'missed',
        value: `${ratio.toFixed(2)}x`,
      };
    }
    if (target.figure !== undefined && target.minRatio !== undefined) {
      const ratio = row.figures[target.figure];
      return {
        ...target,
        status: ratio >= target.minRatio ? 'met' : 'missed',
        value: `${ratio.toFixed(2)}x`,
      };
    }
    if (target.minRatio !== undefined) {
      const met = row.ratio >= target.minRatio;
      return {
        ...target,
        status: met ? 'met' : 'missed',
        value: `${row.ratio.toFixed(2)}x (${formatRate(row.figures.opsPerSec)})`,
      };
    }
    const fetches = row.figures[target.figure ?? 'fetches'];
    const met = fetches <= target.maxFetches;
    return { ...target, status: met ? 'met' : 'missed', value: `${fetches} fetch(es)` };
  });
}

function targetsTable(rows) {
  const lines = ['| target | goal | ours | status |', '|---|---:|---:|---|'];
  for (const target of targetRows(rows)) {
    const goal =
      target.maxMs !== undefined
        ? `< ${target.maxMs} ms`
        : target.maxRatio !== undefined
          ? `<= ${target.maxRatio}x`
          : target.minRatio !== undefined
            ? `>= ${target.minRatio}x`
            : `${target.maxFetches} fetch`;
    lines.push(`| ${target.label} | ${goal} | ${target.value} | ${target.status} |`);
  }
  return lines.join('\n');
}

function configTable(subjects) {
  const lines = ['| subject | configuration |', '|---|---|'];
  for (const [id, subject] of Object.entries(subjects)) lines.push(`| ${id} | ${subject.config} |`);
  return lines.join('\n');
}

function environment(run) {
  const { machine } = run;
  const packages = Object.entries(run.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return [
    `- date: ${run.date}; command: \`${run.command}\`${run.commit ? `; commit ${run.commit}` : ''}`,
    `- machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB RAM, ${machine.os}; load average at start ${machine.loadAverageAtStart.join(' / ')}, at end ${run.loadAverageAtEnd?.join(' / ') ?? '-'}`,
    `- Node ${run.node}; Redis ${run.redis} (${run.redisSource}, loopback)`,
    `- packages: ${packages}`,
    `- settings: ${run.settings.repeats} repeat(s); time box ${run.settings.durationMs} ms after ${run.settings.warmupMs} ms warm-up; ${run.settings.entries.toLocaleString('en-US')} entries for the heap figure; ${run.settings.rounds} propagation rounds per repeat; ${run.settings.jobs} worker(s) at a time`,
  ].join('\n');
}

const METHOD = `Each (subject, scenario, repeat) runs in a fresh Node process (bench/worker.mjs). In every
repeat each tier's raw baseline runs before and after its subjects; a ratio is the subject's figure
over the mean of those two baseline runs, and the tables show medians over repeats (fetch counts:
the worst repeat; "drift" is how far the baseline moved between its two runs, the noise floor).
Ratios to raw @redis/client (the redis tier's get, getOrSet and set columns, the tiered set) are
paired instead: after its own time box the subject's worker sets the raw client up beside it and
times both in 10 alternating rounds of a tenth of the time box each (who goes first drawn per
round); the ratio is the median of the rounds' ratios. Baselines in their own processes drifted
10-30% within a repeat, more than the few microseconds per round trip these ratios are about. As a
check of the method, ioredis (another raw client) reads 1.01x-1.03x against node-redis with one
caller.
Throughput is a time box after a warm-up, on 100 keys holding ~1 KB JSON pages. Every call is
awaited, the synchronous Map and lru-cache too, as application code awaits a cache: for the raw Map
that await is most of the cost of a hit. Every value read is checked (account id, version, order
count): a wrong or missing value fails the run, and a getOrSet hit that runs its fetcher fails it
too. Tiered throughput is compared to a raw Map (an L1 hit) except \`set\`, which must reach Redis
and is compared to raw @redis/client. Stampedes: 1000 getOrSet calls on one cold key with a 25 ms
fetcher, in one process or split 250 per process over 4 processes (fetches counted in a shared
Redis counter). Propagation: a writer process updates a key that a reader process serves from its
L1; latency is the reader's first sighting of the new value minus the start of the writer's set.
Heap: heapUsed after forced GC with N fresh pages stored, minus before, divided by N.
Hot key expiry: 64 callers in each of 4 processes call getOrSet on a key with a 1 s ttl every 20 ms
for 4 ttl periods, each round also on a key that never expires (the hit latency, same callers, same
moments); the fetcher takes 50 ms; fetches starting within a quarter ttl of each other are one refresh.
Codecs: one cache per codec on the run's Redis (\`operationTimeout: '5s'\`, so that a slow read on a
loaded machine is measured rather than turned into a miss); a ~1 KB page (100 keys) and a ~100 KB value of 100
pages (10 keys); bytes are Redis's STRLEN of the stored entry (envelope included) over the value's
JSON length; get and set latency per op, one caller, every value read checked.`;

/** The codecs scenario: one line per (codec, value size), bytes in Redis against the JSON value's. */
function codecsTable(rows, failures) {
  const row = rows.find((candidate) => candidate.scenario === 'codecs');
  if (row === undefined) return undefined;
  if (row.errors.length > 0) {
    failures.push({ row, subject: row.subject, scenario: 'codecs', errors: row.errors });
    return `FAIL (${row.errors.length} of ${row.runs} runs)`;
  }
  const lines = [
    '| codec | value | bytes in Redis (vs JSON value) | get p50 / p99 | set p50 |',
    '|---|---|---:|---:|---:|',
  ];
  for (const size of SIZES) {
    for (const codec of CODECS) {
      const figure = (name) => row.figures[`${codec}.${size}.${name}`];
      const bytes = figure('bytes');
      if (bytes === undefined) continue;
      const ratio = (bytes / figure('valueBytes')).toFixed(2);
      lines.push(
        `| ${codec} | ${size} | ${Math.round(bytes).toLocaleString('en-US')} B (${ratio}x) | ${micros(figure('getP50Us'))} / ${micros(figure('getP99Us'))} µs | ${micros(figure('setP50Us'))} µs |`,
      );
    }
  }
  return lines.join('\n');
}

/** Markdown for stdout, bench/results/latest.md and (full runs) BENCHMARKS.md. */
export function renderReport({ run, rows, subjects, errors }) {
  const labels = Object.fromEntries(Object.entries(subjects).map(([id, subject]) => [id, subject.label]));
  const failures = [];
  const tiers = Object.keys(TIERS)
    .filter((tier) =>
      rows.some((row) => row.tier === tier && COLUMNS.some((column) => column.scenario === row.scenario)),
    )
    .map((tier) => tierTable(tier, rows, labels, failures));
  const codecs = codecsTable(rows, failures);
  const parts = [
    '## Results',
    ...(tiers.length === 0 ? [] : [tiers.join('\n\n')]),
    ...(codecs === undefined
      ? []
      : ['### Codecs on Redis (ours: `compressedCodec`, `encryptedCodec`)', codecs]),
    '## Targets (ratios within one run)',
    targetsTable(rows),
    '## How the subjects are configured',
    configTable(subjects),
    '## Method',
    METHOD,
    '## Environment',
    environment(run),
  ];
  if (failures.length > 0 || errors.length > 0) {
    const lines = failures.map(
      ({ subject, scenario, errors: messages }) =>
        `- ${subject} / ${scenario}: ${messages[0].split('\n')[0]}`,
    );
    for (const error of errors) lines.push(`- ${error}`);
    parts.push('## Failures', lines.join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}
