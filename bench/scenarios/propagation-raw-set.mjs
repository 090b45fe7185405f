import { createClient } from '@redis/client';
import { orderPage } from '../lib/fixtures.mjs';
import { coordinatePropagation, INDEX, KEY, reader, wallNow, writer } from './propagation.mjs';

const SCRATCH = 'orders:summaries:propagation-scratch';

/**
 * The propagation rounds with a writer that is not this SDK: a plain `SET` of the entry's text from
 * a raw node-redis client, as `redis-cli SET` or another service would write it. The text is made
 * by the subject's own set on a scratch key (so it is an entry the reader can read), outside the
 * measured part; latency = first sighting in the reader - start of the raw SET.
 */
async function rawWriter(handle, ctx, ipc) {
  const client = createClient({ url: ctx.redisUrl });
  client.on('error', () => {}); // a dropped connection fails the SET, which fails the run
  await client.connect();
  try {
    return await writer(handle, ipc, async (version) => {
      await handle.set(SCRATCH, orderPage(INDEX, version));
      const text = await client.get(`${ctx.prefix}:${SCRATCH}`);
      if (text === null) throw new Error(`${ctx.subject}: no text at ${ctx.prefix}:${SCRATCH}`);
      const startedAt = wallNow();
      await client.set(`${ctx.prefix}:${KEY}`, text);
      return startedAt;
    });
  } finally {
    await client.close();
  }
}

export default {
  name: 'propagation-raw-set',
  title: 'plain SET by a non-SDK client -> seen, 2 processes',
  tiers: ['tiered'],
  subjects: ['tiered-ours', 'tiered-ours-tracking'],
  run(handle, ctx, ipc) {
    return ctx.role === 'writer' ? rawWriter(handle, ctx, ipc) : reader(handle, ipc, ctx.subject);
  },
  coordinate: coordinatePropagation,
};
