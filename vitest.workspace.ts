import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// vitest 4 no longer auto-loads a workspace file: this file IS the config (`vitest --config
// vitest.workspace.ts`), and each package is one project. Workspace packages resolve to their
// TypeScript sources, so tests never depend on a stale dist/.
const source = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

const entry = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// A subpath comes before its package: vite matches an alias as a prefix, in this order.
const alias = {
  '@org/cache-core/adapter': entry('core/src/adapter.ts'),
  '@org/cache-core': source('core'),
  '@org/cache-memory': source('memory'),
  '@org/cache-testing/processes': entry('testing/src/processes/index.ts'),
  '@org/cache-testing': source('testing'),
  '@org/cache-redis/connection': entry('redis/src/connection.ts'),
  '@org/cache-redis': source('redis'),
  '@org/cache-tiered': source('tiered'),
  '@org/cache-cdc': source('cdc'),
  '@org/cache-test-support': source('test-support'),
  '@org/cache-nestjs/cdc': entry('nestjs/src/cdc/index.ts'),
  '@org/cache-nestjs': source('nestjs'),
  '@org/cache-cli': source('cli'),
  '@org/cache-otel': source('otel'),
  '@org/cache-prometheus': source('prometheus'),
};

const project = (
  name: string,
  root = `./packages/${name}`,
  timeouts: { testTimeout?: number; hookTimeout?: number } = {},
) => ({
  resolve: { alias },
  test: {
    name,
    root,
    include: ['test/**/*.test.ts'],
    // A test's timeout is a hang guard, not a performance claim (those live in bench/): tests
    // that take 0.5 s alone took over 5 s (vitest's default) on a loaded 2-core machine. Waits
    // inside tests are bounded by their own, descriptive deadlines (waitFor: 10 s by default).
    testTimeout: 60_000,
    hookTimeout: 120_000,
    ...timeouts,
    // Type tests (*.test-d.ts: expectTypeOf, @ts-expect-error) are checked by `pnpm typecheck`
    // (tsc over tsconfig.json and packages/nestjs/tsconfig.json, which include every test
    // folder), and `pnpm test` runs it first. Not vitest's typecheck mode: it printed an
    // "experimental feature" notice per project and ran tsc once per project.
  },
});

export default defineConfig({
  test: {
    // Figures the tests measure go to test-artifacts/measurements.log (see test-support's measure()).
    globalSetup: [fileURLToPath(new URL('./packages/test-support/src/global-setup.ts', import.meta.url))],
    projects: [
      project('core'),
      project('memory'),
      project('testing'),
      project('test-support'),
      project('redis'),
      project('tiered'),
      project('cdc'),
      // Every test boots a Nest application and most send 100 requests: on the shared 2-core
      // machine that alone has taken over 5 s (vitest's default), so these are bounds against
      // hangs, not targets.
      project('nestjs', './packages/nestjs', { testTimeout: 60_000, hookTimeout: 60_000 }),
      // Every cli test spawns `node dist/main.js`: a few seconds each on a busy 2-core machine.
      project('cli', undefined, { testTimeout: 60_000 }),
      project('otel'),
      project('prometheus'),
      // A Nest application too: its e2e files start the built service (child processes, 100
      // requests at once, Chromium): the nestjs project's bounds, against hangs.
      project('bff', './examples/bff', { testTimeout: 60_000, hookTimeout: 60_000 }),
    ],
  },
});
