import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// vitest 4 no longer auto-loads a workspace file: this file IS the config (`vitest --config
// vitest.workspace.ts`), and each package is one project. Workspace packages resolve to their
// TypeScript sources, so tests never depend on a stale dist/.
const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

const alias = {
  '@org/cache-core': source('core'),
  '@org/cache-memory': source('memory'),
  '@org/cache-testing': source('testing'),
  '@org/cache-redis': source('redis'),
  '@org/cache-tiered': source('tiered'),
  '@org/cache-cdc': source('cdc'),
};

const project = (name: string, root = `./packages/${name}`) => ({
  resolve: { alias },
  test: {
    name,
    root,
    include: ['test/**/*.test.ts'],
    // Type tests (*.test-d.ts) run with the rest: vitest 4 ignores --typecheck for inline projects.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: '../../tsconfig.json' },
  },
});

export default defineConfig({
  test: {
    projects: [
      project('core'),
      project('memory'),
      project('testing'),
      project('redis'),
      project('tiered'),
      project('cdc'),
      project('bff', './examples/bff'),
    ],
  },
});
