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
  '@org/cache-test-support': source('test-support'),
  '@org/cache-nestjs/cdc': fileURLToPath(new URL('./packages/nestjs/src/cdc/index.ts', import.meta.url)),
  '@org/cache-nestjs': source('nestjs'),
  '@org/cache-cli': source('cli'),
  '@org/cache-otel': source('otel'),
  '@org/cache-prometheus': source('prometheus'),
};

const project = (
  name: string,
  root = `./packages/${name}`,
  tsconfig = '../../tsconfig.json',
  timeouts: { testTimeout?: number; hookTimeout?: number } = {},
) => ({
  resolve: { alias },
  test: {
    name,
    root,
    ...timeouts,
    include: ['test/**/*.test.ts'],
    // Type tests (*.test-d.ts) run with the rest: vitest 4 ignores --typecheck for inline projects.
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig },
  },
});

export default defineConfig({
  test: {
    projects: [
      project('core'),
      project('memory'),
      project('testing'),
      project('test-support'),
      project('redis'),
      project('tiered'),
      project('cdc'),
      // Its own tsconfig: the decorator flags stay out of the other packages. Every test boots a
      // Nest application and most send 100 requests: on the shared 2-core machine that alone has
      // taken over 5 s (vitest's default), so these are bounds against hangs, not targets.
      project('nestjs', './packages/nestjs', './tsconfig.json', { testTimeout: 60_000, hookTimeout: 60_000 }),
      // Every cli test spawns `node dist/main.js`: a few seconds each on a busy 2-core machine.
      project('cli', undefined, undefined, { testTimeout: 60_000 }),
      project('otel'),
      project('prometheus'),
      project('bff', './examples/bff'),
    ],
  },
});
