#!/usr/bin/env node
// `pnpm check:packages`: packs every publishable package as it would be published and checks the
// tarball, not the folder: publint (package.json against the files really shipped), Are The Types
// Wrong (types resolve as the exports map says), and the shelf: README and LICENSE shipped, no
// `workspace:` range left. Run after `pnpm build`.
//
// attw runs with `--profile esm-only`: the packages are ESM only on purpose (p-memoize, a core
// dependency, is ESM only too), so attw's `node10` and `node16 (from CJS)` rows are expected to say
// "ESM (dynamic import only)". CommonJS callers on Node >= 20.19 still load them through
// require(esm); check-install.mjs checks that at run time.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packPackages, root } from './packages.mjs';

const run = promisify(execFile);
const bin = (name) => join(root, 'node_modules', '.bin', name);

/** Runs a checker; resolves to its output, with `failed` when it exited non-zero. */
async function check(command, args) {
  try {
    const { stdout, stderr } = await run(command, args, { env: { ...process.env, FORCE_COLOR: '0' } });
    return { failed: false, output: `${stdout}${stderr}` };
  } catch (error) {
    return {
      failed: true,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}${error.stdout ? '' : error.message}`,
    };
  }
}

/** What the tarball itself says: its package.json, and its LICENSE text. */
async function readPacked(tarball, path) {
  const { stdout } = await run('tar', ['-xzOf', tarball, `package/${path}`], { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

async function shelfProblems(pkg) {
  const problems = [];
  for (const required of ['README.md', 'LICENSE']) {
    if (!pkg.files.includes(required)) problems.push(`${required} is not in the tarball`);
  }
  if (pkg.files.includes('LICENSE')) {
    const license = await readPacked(pkg.tarball, 'LICENSE');
    if (license !== readFileSync(join(root, 'LICENSE'), 'utf8'))
      problems.push('LICENSE differs from the root LICENSE (copy it: cp LICENSE <package>/)');
  }
  const manifest = await readPacked(pkg.tarball, 'package.json');
  if (manifest.includes('workspace:')) problems.push('the packed package.json still has a workspace: range');
  if (!pkg.files.some((file) => file.startsWith('dist/')))
    problems.push('no dist/ in the tarball: run pnpm build');
  return problems;
}

const destination = mkdtempSync(join(tmpdir(), 'org-cache-check-packages-'));
let failures = 0;
try {
  const packed = await packPackages(destination);
  for (const pkg of packed) {
    const results = [
      ['shelf', { failed: false, output: '' }],
      ['publint', await check(bin('publint'), ['run', pkg.tarball, '--strict'])],
      ['attw', await check(bin('attw'), [pkg.tarball, '--profile', 'esm-only', '--format', 'ascii'])],
    ];
    const problems = await shelfProblems(pkg);
    if (problems.length > 0) results[0][1] = { failed: true, output: problems.join('\n') };
    for (const [name, result] of results) {
      if (!result.failed) continue;
      failures++;
      console.log(`\n${pkg.name}: ${name} failed\n${result.output.trim()}`);
    }
    const status = results.every(([, result]) => !result.failed) ? 'ok' : 'FAILED';
    console.log(`${pkg.name.padEnd(24)} shelf, publint --strict, attw --profile esm-only: ${status}`);
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
if (failures > 0) {
  console.log(`\ncheck:packages: ${failures} check(s) failed`);
  process.exitCode = 1;
}
