import type { TestRunner } from '@org/cache-testing';

export interface CollectedTest {
  /** `describe > it` path. */
  name: string;
  run(): Promise<void>;
}

/**
 * A fake runner that records what a suite registers, so a test can check which tests a flag
 * registers and run them by hand against a broken store.
 */
export function collectSuite(register: (runner: TestRunner) => void, withHooks = true): CollectedTest[] {
  const tests: CollectedTest[] = [];
  const path: string[] = [];
  let afterEach: Array<() => unknown> = [];
  const runner: TestRunner = {
    describe(name, body) {
      path.push(name);
      body();
      path.pop();
    },
    it(name, body) {
      const hooks = afterEach;
      tests.push({
        name: [...path, name].join(' > '),
        async run() {
          try {
            await body();
          } finally {
            for (const hook of hooks) await hook();
          }
        },
      });
    },
  };
  if (withHooks) {
    runner.afterEach = (hook) => {
      afterEach = [...afterEach, hook];
    };
  }
  register(runner);
  return tests;
}

export function findTest(tests: CollectedTest[], fragment: string): CollectedTest {
  const found = tests.filter((test) => test.name.includes(fragment));
  if (found.length !== 1) throw new Error(`expected one test matching "${fragment}", found ${found.length}`);
  return found[0] as CollectedTest;
}
