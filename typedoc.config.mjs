// `pnpm docs`: the API reference of the publishable packages (private ones are left out), one
// module per package named by its package.json. Each package's entry points are inferred by
// typedoc from its `exports` map (a new subpath export is documented with no change here) and
// mapped back to src/ through its tsconfig.build.json; its README is the module's page.
import { relative } from 'node:path';
import { publishablePackages, root } from './scripts/packages.mjs';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: '@org/cache',
  entryPointStrategy: 'packages',
  entryPoints: publishablePackages().map((pkg) => relative(root, pkg.dir)),
  // In `packages` mode each package is converted with these options (the top-level ones below
  // only apply to the merged site): what is excluded and where source links point must be here.
  packageOptions: {
    tsconfig: 'tsconfig.build.json',
    readme: 'README.md',
    excludePrivate: true,
    excludeInternal: true,
    // No git remote in a clone of this repository: source links name the public repository.
    disableGit: true,
    gitRevision: 'main',
    sourceLinkTemplate: 'https://github.com/org/cache/blob/{gitRevision}/{path}#L{line}',
  },
  readme: 'README.md',
  out: 'docs/api',
  excludePrivate: true,
  excludeInternal: true,
  // A public signature naming an unexported type is a hole in the reference: fail, do not warn.
  treatWarningsAsErrors: true,
};
