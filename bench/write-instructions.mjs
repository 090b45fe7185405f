/**
 * CPU instructions per `set` of the bench's 1 KB page on Redis, counted by valgrind: unlike a
 * timing, the count does not move with the machine's load, so a write-path change of a few
 * hundred nanoseconds shows on a shared 2-core machine. Each subject runs twice under callgrind
 * (2,000 and 6,000 sets after the same warm-up); the difference / 4,000 is one set's cost in this
 * Node process, start-up and JIT warm-up cancelled out. Redis's own work is not counted.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 node bench/write-instructions.mjs [subject ...]
 *
 * Subjects: raw (node-redis SET of JSON text), redis (createCache + redisStore), tiered
 * (createCache + tieredStore with coherence: 'tracking'). Needs valgrind on PATH. Keys are
 * `bench-wi-<pid>:...` and expire after a minute.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createCache, ttl } from '@org/cache-core';
import { memoryStore } from '@org/cache-memory';
import { redisStore } from '@org/cache-redis';
import { tieredStore } from '@org/cache-tiered';
import { createClient } from '@redis/client';
import { KEYS, PAGES } from './lib/fixtures.mjs';

const SUBJECTS = ['raw', 'redis', 'tiered'];
const url = process.env.REDIS_URL;
if (!url) {
  console.error('write-instructions: set REDIS_URL (the Redis the sets go to)');
  process.exit(2);
}

if (process.env.WRITE_INSTRUCTIONS_CHILD) await child(process.argv[2], Number(process.argv[3]));
else parent(process.argv.slice(2).length > 0 ? process.argv.slice(2) : SUBJECTS);

function parent(subjects) {
  for (const subject of subjects) {
    if (!SUBJECTS.includes(subject)) throw new Error(`unknown subject ${subject}: one of ${SUBJECTS}`);
    const [few, many] = [2_000, 6_000].map((count) => instructions(subject, count));
    console.log(
      `${subject.padEnd(8)} ${Math.round((many - few) / 4_000).toLocaleString('en')} instructions per set`,
    );
  }
}

function instructions(subject, count) {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      fileURLToPath(import.meta.url),
      subject,
      String(count),
    ],
    { env: { ...process.env, WRITE_INSTRUCTIONS_CHILD: '1' }, encoding: 'utf8' },
  );
  const collected = /Collected : (\d+)/.exec(run.stderr ?? '');
  if (run.status !== 0 || collected === null) {
    throw new Error(
      `valgrind ${subject} ${count} failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr?.slice(-2000)}`,
    );
  }
  return Number(collected[1]);
}

/** One subject's sets, in the process valgrind counts. */
async function child(subject, count) {
  const prefix = `bench-wi-${process.pid}`;
  let set;
  let close;
  if (subject === 'raw') {
    const client = createClient({ url });
    client.on('error', () => {});
    await client.connect();
    set = (i) =>
      client.set(`${prefix}:${KEYS[i % 100]}`, JSON.stringify(PAGES[i % 100]), {
        expiration: { type: 'PX', value: 60_000 },
      });
    close = () => client.close();
  } else {
    const store =
      subject === 'redis'
        ? redisStore({ url })
        : tieredStore({
            l1: memoryStore({ maxEntries: 1_000 }),
            l2: redisStore({ url }),
            coherence: 'tracking',
          });
    const cache = createCache({ store, prefix, strategy: ttl(60_000), operationTimeout: '10s' });
    set = (i) => cache.set(KEYS[i % 100], PAGES[i % 100]);
    close = () => cache.close();
  }
  // Under valgrind the first connection is slow: the warm-up starts once a set goes through.
  for (let attempt = 0; ; attempt++) {
    try {
      await set(0);
      break;
    } catch (error) {
      if (attempt === 100) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  for (let i = 0; i < 3_000; i++) await set(i);
  for (let i = 0; i < count; i++) await set(i);
  await close();
}
