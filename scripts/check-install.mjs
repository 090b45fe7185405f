#!/usr/bin/env node
// Installable outside the monorepo: packs every publishable package (`pnpm pack`, which rewrites
// `workspace:^` ranges), installs the tarballs with plain npm into a scratch project in the temp
// directory (outside the workspace, so nothing resolves through its node_modules), then there:
//   1. type-checks every README code block marked `<!-- checked: run -->` or
//      `<!-- checked: typecheck -->` (the root README's "Using it" program among them), strict,
//      against the packed .d.ts files;
//   2. runs the `run` blocks (the memory store: no Redis needed) and fails on a non-zero exit;
//   3. require()s every package from CommonJS, as Node >= 20.19 allows for ESM-only packages.
// The code is read out of the READMEs by its marker, so the READMEs and this check cannot drift.
// Run after `pnpm build`. `--keep` leaves the scratch project in place for a look.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { packPackages, publishablePackages, root } from './packages.mjs';

const execFileAsync = promisify(execFile);
const keep = process.argv.includes('--keep');
const started = performance.now();
const step = (text) =>
  console.log(`[check-install ${((performance.now() - started) / 1000).toFixed(1)}s] ${text}`);

// npm must not see the npm_config_* variables pnpm sets for the scripts it runs: they are pnpm's
// settings for this workspace, not the scratch project's.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));

async function run(command, args, options) {
  try {
    return await execFileAsync(command, args, { env: cleanEnv, maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    throw new Error(`${command} ${args.join(' ')} failed (${error.code ?? error.signal})\n${output}`);
  }
}

/** Every marked ```ts block of the root README and the package READMEs, in order. */
function readmeBlocks() {
  const readmes = [
    join(root, 'README.md'),
    ...publishablePackages().map((pkg) => join(pkg.dir, 'README.md')),
  ];
  const marker = /<!-- checked: (run|typecheck) -->\r?\n```ts\r?\n([\s\S]*?)\r?\n```/g;
  const blocks = [];
  for (const readme of readmes) {
    let text;
    try {
      text = readFileSync(readme, 'utf8');
    } catch {
      continue; // a package without a README: check-packages.mjs reports it
    }
    const name = relative(root, dirname(readme)).replaceAll('/', '-') || 'root';
    let index = 0;
    for (const [, mode, code] of text.matchAll(marker)) {
      index++;
      const file = `${name}-readme${index > 1 ? `-${index}` : ''}`;
      blocks.push({ readme: relative(root, readme), mode, code, file });
    }
  }
  return blocks;
}

const blocks = readmeBlocks();
if (!blocks.some((block) => block.readme === 'README.md' && block.mode === 'run'))
  throw new Error('README.md has no <!-- checked: run --> block: the "Using it" program must stay checked');

const scratch = mkdtempSync(join(tmpdir(), 'org-cache-install-'));
try {
  step(`packing into ${scratch}/tarballs`);
  const tarballs = join(scratch, 'tarballs');
  mkdirSync(tarballs);
  const packed = await packPackages(tarballs);

  const project = join(scratch, 'project');
  mkdirSync(join(project, 'src'), { recursive: true });
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const coreManifest = packed.find((pkg) => pkg.name === '@org/cache-core').manifest;
  const manifest = {
    name: 'org-cache-install-check',
    private: true,
    type: 'module',
    dependencies: {
      ...Object.fromEntries(packed.map((pkg) => [pkg.name, `file:${pkg.tarball}`])),
      zod: coreManifest.dependencies.zod, // the README's schemas; the version core uses, so one copy
    },
    devDependencies: {
      typescript: rootManifest.devDependencies.typescript,
      '@types/node': rootManifest.devDependencies['@types/node'],
    },
  };
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // What a user's strict ESM project would have (`tsc --init` turns skipLibCheck on too). With it
  // off, tsc also checks zod's and node-redis's .d.ts: 2.5 times the CPU here for no finding of
  // ours; attw has already resolved our .d.ts, and the blocks use them.
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  };
  writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
  for (const block of blocks) writeFileSync(join(project, 'src', `${block.file}.ts`), `${block.code}\n`);

  step(`npm install of ${packed.length} tarballs (${packed.map((pkg) => basename(pkg.tarball)).join(', ')})`);
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: project,
  });

  step(`tsc on ${blocks.length} README blocks (${blocks.map((block) => block.readme).join(', ')})`);
  await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: project });

  for (const block of blocks.filter((candidate) => candidate.mode === 'run')) {
    step(`node: ${block.readme} (dist/${block.file}.js)`);
    // A hang must fail CI, not stall it; a minute is far above what these few calls take.
    const { stdout, stderr } = await run(process.execPath, [join('dist', `${block.file}.js`)], {
      cwd: project,
      timeout: 60_000,
    });
    if (stdout.trim() !== '') console.log(stdout.trimEnd().replace(/^/gm, '    '));
    if (stderr.trim() !== '') throw new Error(`${block.readme}'s program wrote to stderr:\n${stderr}`);
  }

  // Every entry point of every exports map, not only the roots.
  const entryPoints = packed.flatMap((pkg) =>
    Object.keys(pkg.manifest.exports ?? { '.': null })
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => `${pkg.name}${subpath.slice(1)}`),
  );
  step(`require() from CommonJS of ${entryPoints.length} entry points`);
  const requireCheck = entryPoints
    .map(
      (id) =>
        `if (Object.keys(require(${JSON.stringify(id)})).length === 0) throw new Error('${id}: no exports');`,
    )
    .join('\n');
  writeFileSync(join(project, 'require-check.cjs'), `${requireCheck}\n`);
  const { stderr } = await run(process.execPath, ['require-check.cjs'], { cwd: project, timeout: 60_000 });
  // Node 20 prints an ExperimentalWarning for require(esm); shown, not hidden, but not a failure.
  if (stderr.trim() !== '') console.log(stderr.trim().replace(/^/gm, '    '));

  step('ok');
} finally {
  if (keep) console.log(`scratch project kept in ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
}
