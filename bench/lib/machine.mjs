import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('..', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function cpuModel() {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model;
  } catch {
    return os.cpus()[0]?.model ?? 'unknown';
  }
}

function git(args) {
  try {
    return execFileSync('git', args, {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** Installed versions of bench/'s dependencies (pnpm links each under bench/node_modules). */
function packageVersions() {
  const manifest = JSON.parse(readFileSync(`${BENCH}package.json`, 'utf8'));
  const versions = {};
  for (const name of Object.keys(manifest.dependencies).sort()) {
    try {
      versions[name] = JSON.parse(readFileSync(`${BENCH}node_modules/${name}/package.json`, 'utf8')).version;
    } catch {
      versions[name] = 'not installed';
    }
  }
  return versions;
}

/** What a reader needs to judge the figures: the machine, its load, the software, the command. */
export function describeRun(redisVersion) {
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--', 'packages']);
  return {
    date: new Date().toISOString(),
    command:
      process.env.npm_lifecycle_event === 'bench'
        ? `pnpm bench ${process.argv.slice(2).join(' ')}`.trim()
        : `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    commit:
      commit === undefined ? undefined : `${commit}${dirty ? ' (packages/ has uncommitted changes)' : ''}`,
    machine: {
      nproc: os.availableParallelism(),
      cpu: cpuModel(),
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAverageAtStart: os.loadavg().map((load) => Math.round(load * 100) / 100),
    },
    node: process.version,
    redis: redisVersion,
    packages: packageVersions(),
  };
}
