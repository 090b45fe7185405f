// The publishable packages of the workspace and how to pack them: shared by check-packages.mjs,
// check-install.mjs and `pnpm pack:packages`. Packing goes through pnpm (`pnpm pack`), never npm,
// because pnpm rewrites the `workspace:^` ranges into real versions in the packed package.json.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** Every `packages/*` package that is not private, with its directory and manifest. */
export function publishablePackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const packageDir = join(dir, entry.name);
      try {
        return {
          dir: packageDir,
          manifest: JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')),
        };
      } catch {
        return undefined; // a folder without a package.json is not a package
      }
    })
    .filter((pkg) => pkg !== undefined && pkg.manifest.private !== true)
    .map((pkg) => ({ name: pkg.manifest.name, dir: pkg.dir, manifest: pkg.manifest }));
}

/**
 * The pnpm to run: the one running this script when it was started by a pnpm script (`pnpm
 * check:packages`, also through `npx pnpm@x`), else the project's pinned version through npx, so
 * a machine without pnpm on its PATH works too.
 */
export function pnpmCommand() {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) return [process.execPath, [execPath]];
  const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
  return ['npx', ['-y', pinned]];
}

/** `pnpm pack`s every publishable package into `destination`; resolves to their tarballs. */
export async function packPackages(destination) {
  const [command, prefix] = pnpmCommand();
  const packages = publishablePackages();
  // One pnpm process for all of them (`-r` with a filter per package): starting pnpm is most of
  // the cost of packing a package.
  const filters = packages.flatMap((pkg) => ['--filter', pkg.name]);
  const { stdout } = await run(
    command,
    [...prefix, '-r', ...filters, 'pack', '--json', '--pack-destination', destination],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  );
  const reports = [JSON.parse(stdout)].flat();
  return packages.map((pkg) => {
    const report = reports.find((candidate) => candidate.name === pkg.name);
    if (report === undefined) throw new Error(`pnpm pack did not pack ${pkg.name}`);
    return { ...pkg, tarball: report.filename, files: report.files.map((file) => file.path) };
  });
}
