import { fileURLToPath } from 'node:url';
import {
  ChildWorker,
  ChildWorkerError,
  startChildWorkers,
  stopAllChildWorkers,
} from '@org/cache-testing/processes';
import { afterEach, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/echo-worker.mjs', import.meta.url));
const start = (mode = 'ok', name = 'echo') => ChildWorker.start({ script, name, env: { ECHO_MODE: mode } });

describe('ChildWorker', () => {
  afterEach(() => stopAllChildWorkers());

  it('answers requests, forwards events, and reports a failed request with its code', async () => {
    const worker = await start();
    expect(await worker.request('echo', { value: { a: 1 } })).toEqual({ a: 1 });
    const events: unknown[] = [];
    worker.onMessage((message) => events.push(message));
    await worker.request('event', { value: 7 });
    expect(events).toContainEqual({ type: 'event', value: 7 });
    const error = await worker.request('fail').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChildWorkerError);
    expect(error).toMatchObject({ code: 'E_TEST', message: expect.stringContaining('failed on purpose') });
  });

  it('bounds every wait: a request that is never answered rejects at its timeout', async () => {
    const worker = await start();
    await expect(worker.request('hang', {}, 50)).rejects.toThrow(/timed out after 50 ms/);
  });

  it('rejects start when the child reports fatal or exits before ready', async () => {
    await expect(start('fatal')).rejects.toThrow(/cannot start/);
    await expect(start('exit')).rejects.toThrow(/exited before ready/);
  });

  it('rejects pending requests when the child dies, and stopAll kills what is left', async () => {
    const [a, b] = await startChildWorkers([
      { script, name: 'a' },
      { script, name: 'b' },
    ]);
    const pending = a?.request('hang', {}, 5_000);
    await a?.kill();
    await expect(pending).rejects.toThrow(/exited/);
    expect(a?.alive).toBe(false);
    await stopAllChildWorkers();
    expect(b?.alive).toBe(false);
    await expect(b?.request('echo', { value: 1 })).rejects.toThrow(/not running/);
  });
});
