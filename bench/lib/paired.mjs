import { median } from './stats.mjs';

/**
 * A subject and its baseline timed in ONE process, in alternating rounds (which goes first is
 * drawn each round), for the (tier, scenario) pairs whose baseline is the raw Redis client. The
 * ratio of each round's two rates is taken, and the median of those is the subject's ratio.
 *
 * Why: the bracketing baseline runs in its own processes seconds before and after the subject,
 * and on a 2-core virtual machine its rate drifted 10-30% within a repeat: more than the few
 * microseconds per Redis round trip the write-path targets are about. Rounds of a subject and
 * its baseline side by side share the machine's state; a hiccup spoils one round, not the ratio.
 * Not for the in-memory tier: there the loop costs ~50 ns, and a loop shared by two subjects
 * (polymorphic call sites) would cost the raw Map's side more than ours.
 */

export const PAIRED_ROUNDS = 10;

/**
 * `sides`: `[subject, baseline]`, each `{ handle, ctx }`. Prepares both (the scenario's
 * `throughput`), warms both, then runs PAIRED_ROUNDS rounds of `durationMs / PAIRED_ROUNDS` per
 * side, so each side is timed for one time box in all, and verifies both.
 */
export async function pairedThroughput(scenario, sides, ctx) {
  const loops = [];
  for (const side of sides) loops.push(await scenario.throughput(side.handle, side.ctx));
  for (const { loop } of loops) await loop(ctx.warmupMs);
  const sliceMs = Math.max(1, Math.round(ctx.durationMs / PAIRED_ROUNDS));
  const rates = loops.map(() => []);
  for (let round = 0; round < PAIRED_ROUNDS; round++) {
    const order = Math.random() < 0.5 ? [0, 1] : [1, 0];
    for (const side of order) rates[side].push((await loops[side].loop(sliceMs)).opsPerSec);
  }
  for (const { verify } of loops) await verify?.();
  const [own, baseline] = rates;
  return {
    pairedRatio: median(own.map((rate, round) => rate / baseline[round])),
    pairedRounds: PAIRED_ROUNDS,
    pairedOpsPerSec: median(own),
    pairedBaselineOpsPerSec: median(baseline),
  };
}
