// Redis client tracking, default mode against BCAST, for the tiered store's `coherence: 'tracking'`:
// what one instance receives and what Redis keeps while a writer updates every key under the
// prefix and the instance holds a share of them in L1 (re-reading each held key after its
// invalidation, as a hot L1 does). Default mode: Redis remembers the keys read on the connection
// and sends an invalidation per remembered key. BCAST PREFIX: Redis remembers only the prefix and
// sends every write under it. On a private redis-server. Usage (after `pnpm build`):
//   node bench/tracking-modes.mjs [keys=10000] [held share=0.1] [seconds=3]
import { startRedisServer } from '@org/cache-test-support';
import { createClient } from '@redis/client';

const keyCount = Number(process.argv[2] ?? 10_000);
const heldShare = Number(process.argv[3] ?? 0.1);
const seconds = Number(process.argv[4] ?? 3);
const PREFIX = 'tm:';
const WRITE_BATCH = 100;
const keys = Array.from({ length: keyCount }, (_, index) => `${PREFIX}${index}`);
const held = keys.slice(0, Math.round(keyCount * heldShare));

function infoField(info, field) {
  const line = info.split('\r\n').find((entry) => entry.startsWith(`${field}:`));
  return line === undefined ? undefined : Number(line.slice(field.length + 1));
}

async function run(server, mode) {
  const admin = createClient({ url: server.url });
  await admin.connect();
  await admin.sendCommand(['FLUSHALL']);
  for (let start = 0; start < keyCount; start += 1_000) {
    await admin.sendCommand(['MSET', ...keys.slice(start, start + 1_000).flatMap((key) => [key, 'v0'])]);
  }
  const memoryBefore = infoField(await admin.sendCommand(['INFO', 'memory']), 'used_memory');

  // The instance: one RESP3 connection that tracks (node-redis turns tracking on in its handshake).
  const reader = createClient({ url: server.url, RESP: 3, emitInvalidate: true });
  await reader.connect();
  if (mode === 'bcast') {
    await reader.sendCommand(['CLIENT', 'TRACKING', 'OFF']);
    await reader.sendCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', PREFIX]);
  }
  const heldSet = new Set(held);
  let pushes = 0;
  let pushesForHeld = 0;
  const stale = new Set();
  reader.on('invalidate', (key) => {
    pushes++;
    const name = key === null ? null : key.toString();
    if (name !== null && heldSet.has(name)) {
      pushesForHeld++;
      stale.add(name);
    }
  });
  // Fill L1: default mode registers each key by reading it; BCAST needs no read to register.
  for (let start = 0; start < held.length; start += 1_000) {
    await reader.sendCommand(['MGET', ...held.slice(start, start + 1_000)]);
  }
  const tracked = infoField(await admin.sendCommand(['INFO', 'stats']), 'tracking_total_keys');
  const memoryTracking = infoField(await admin.sendCommand(['INFO', 'memory']), 'used_memory');

  // A hot L1 reads an invalidated key again soon: once per 10 ms, re-read what was dropped.
  let rereads = 0;
  const refill = setInterval(() => {
    if (stale.size === 0) return;
    const batch = [...stale];
    stale.clear();
    rereads += batch.length;
    void reader.sendCommand(['MGET', ...batch]).catch(() => {});
  }, 10);

  const writer = createClient({ url: server.url });
  await writer.connect();
  const cpuBefore = process.cpuUsage();
  const endAt = performance.now() + seconds * 1_000;
  let writes = 0;
  let version = 1;
  while (performance.now() < endAt) {
    const batch = [];
    for (let index = 0; index < WRITE_BATCH; index++) {
      batch.push(writer.sendCommand(['SET', keys[(writes + index) % keyCount], `v${version}`]));
    }
    await Promise.all(batch);
    writes += WRITE_BATCH;
    if (writes % keyCount === 0) version++;
  }
  // Let the last pushes arrive: a PING on the reader's connection comes back after them.
  await reader.sendCommand(['PING']);
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(refill);
  const elapsed = seconds;
  await Promise.all([reader.close(), writer.close(), admin.close()]);
  return {
    mode,
    writesPerSec: Math.round(writes / elapsed),
    pushes,
    pushesPerSec: Math.round(pushes / elapsed),
    pushesForHeld,
    wastedShare: pushes === 0 ? 0 : 1 - pushesForHeld / pushes,
    rereads,
    trackedKeys: tracked,
    trackingBytes: memoryTracking - memoryBefore,
    processCpuMs: Math.round((cpu.user + cpu.system) / 1_000),
  };
}

const server = await startRedisServer();
try {
  console.log(
    `${keyCount} keys under '${PREFIX}', the instance holds ${held.length} (${heldShare * 100}%), one writer SETs every key round robin (${WRITE_BATCH} pipelined) for ${seconds} s; Node ${process.version}`,
  );
  console.log(
    '| mode | writes/s | pushes to the instance (/s) | of them for held keys | pushes for keys not held | re-reads | keys in the tracking table | tracking memory | this process CPU |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const mode of ['default', 'bcast', 'default', 'bcast']) {
    const r = await run(server, mode);
    console.log(
      `| ${r.mode} | ${r.writesPerSec.toLocaleString('en')} | ${r.pushes.toLocaleString('en')} (${r.pushesPerSec.toLocaleString('en')}/s) | ${r.pushesForHeld.toLocaleString('en')} | ${(r.wastedShare * 100).toFixed(0)}% | ${r.rereads.toLocaleString('en')} | ${r.trackedKeys} | ${(r.trackingBytes / 1024).toFixed(0)} KiB | ${r.processCpuMs} ms |`,
    );
  }
} finally {
  await server.stop();
}
