import { createClient } from '@redis/client';
import { stampede } from './stampede.mjs';

const PROCESSES = 4;
const CALLERS_PER_PROCESS = 250;

/**
 * The 1000-caller stampede split over 4 processes sharing one Redis: each process has 250 callers
 * and they all start on the runner's signal. Fetches are counted in a shared Redis counter.
 */
export default {
  name: 'stampede-4p',
  title: '1000-caller stampede, 4 processes',
  tiers: ['redis', 'tiered'],
  async run(handle, ctx, ipc) {
    const counter = createClient({ url: ctx.redisUrl });
    counter.on('error', () => {});
    await counter.connect();
    let fetches = 0;
    ipc.send({ type: 'ready' });
    await ipc.next('go');
    const result = await stampede(handle, ctx.subject, CALLERS_PER_PROCESS, async () => {
      fetches++;
      await counter.incr(ctx.counterKey);
    });
    await counter.close();
    return { ...result, fetches };
  },

  /** Runner side: start 4 workers on one prefix, release them together, read the shared counter. */
  async coordinate(launch, ctx) {
    const counterKey = `${ctx.prefix}-fetches`;
    const workers = Array.from({ length: PROCESSES }, (_, n) => launch({ role: `p${n}`, counterKey }));
    try {
      await Promise.all(workers.map((worker) => worker.next('ready')));
      for (const worker of workers) worker.send({ type: 'go' });
      const results = await Promise.all(workers.map((worker) => worker.result));
      const shared = Number(await ctx.admin.get(counterKey));
      const local = results.reduce((sum, result) => sum + result.fetches, 0);
      if (shared !== local)
        throw new Error(`shared fetch counter says ${shared}, the processes counted ${local}`);
      return {
        processes: PROCESSES,
        callers: PROCESSES * CALLERS_PER_PROCESS,
        fetches: shared,
        wallMs: Math.max(...results.map((result) => result.wallMs)),
      };
    } finally {
      for (const worker of workers) worker.kill();
    }
  },
};
