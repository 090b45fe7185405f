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
  packageOptions: { tsconfig: 'tsconfig.build.json', readme: 'README.md' },
  readme: 'README.md',
  out: 'docs/api',
  excludePrivate: true,
  excludeInternal: true,
  // No git remote in a clone of this repository: source links name the public repository.
  gitRevision: 'main',
  sourceLinkTemplate: 'https://github.com/org/cache/blob/{gitRevision}/{path}#L{line}',
};
