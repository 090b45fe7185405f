import { mean, median } from './stats.mjs';

/**
 * From raw measurements to one row per (tier, scenario, subject): each figure's median over the
 * repeats, and the ratio to the baseline *of the same repeat* (the mean of the baseline runs
 * bracketing the subjects, or the paired rounds' ratio where the subject had them), medianed over
 * repeats.
 */

// Figures where the worst repeat is the honest summary, or where repeats add up. A field named
// `<part>.<name>` (one per codec or freshness variant) is combined by its last part.
const WORST = new Set(['fetches', 'maxMs', 'regressions', 'maxPerRefresh', 'maxAgeMs']);
const SUMMED = new Set(['rounds', 'propagated', 'timeouts', 'misses']);

function combine(results) {
  const combined = {};
  const fields = new Set(results.flatMap((result) => Object.keys(result)));
  for (const field of fields) {
    const values = results.map((result) => result[field]).filter((value) => typeof value === 'number');
    if (values.length === 0) continue;
    const name = field.slice(field.lastIndexOf('.') + 1);
    if (WORST.has(name)) combined[field] = Math.max(...values);
    else if (SUMMED.has(name)) combined[field] = values.reduce((sum, value) => sum + value, 0);
    else combined[field] = median(values);
  }
  return combined;
}

/**
 * `records`: `{ repeat, tier, scenario, subject, role: 'subject' | 'before' | 'after', result?, error? }`.
 * `scenarios`: scenario modules by name (for the ratio field).
 */
export function aggregate(records, scenarios) {
  const groups = new Map();
  for (const record of records) {
    const id = `${record.tier}\u0000${record.scenario}\u0000${record.subject}`;
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id).push(record);
  }
  const rows = [];
  for (const group of groups.values()) {
    const { tier, scenario, subject } = group[0];
    const field = scenarios[scenario].ratio;
    const measured = group.filter((record) => record.result !== undefined);
    const row = {
      tier,
      scenario,
      subject,
      baseline: group.some((record) => record.role !== 'subject'),
      runs: group.length,
      errors: group.filter((record) => record.error !== undefined).map((record) => record.error),
      figures: combine(measured.map((record) => record.result)),
    };
    if (field !== undefined) {
      const ratios = measured.map((record) => {
        // Timed against the baseline in its own process (lib/paired.mjs): that ratio, not the brackets'.
        if (record.result.pairedRatio !== undefined) return record.result.pairedRatio;
        const base = baselineOf(records, record, field);
        return base === undefined ? undefined : record.result[field] / base;
      });
      row.ratio = median(ratios);
      if (row.baseline) row.drift = driftOf(group, field);
    }
    rows.push(row);
  }
  return rows;
}

/** Mean of the baseline runs that bracket the subjects of this (repeat, tier, scenario). */
function baselineOf(records, record, field) {
  const bracket = records.filter(
    (other) =>
      other.repeat === record.repeat &&
      other.tier === record.tier &&
      other.scenario === record.scenario &&
      other.role !== 'subject' &&
      other.result !== undefined,
  );
  return mean(bracket.map((other) => other.result[field]));
}

/** How far the baseline moved between before and after (median over repeats): the noise floor. */
function driftOf(group, field) {
  const repeats = new Set(group.map((record) => record.repeat));
  const drifts = [...repeats].map((repeat) => {
    const before = group.find((record) => record.repeat === repeat && record.role === 'before')?.result?.[
      field
    ];
    const after = group.find((record) => record.repeat === repeat && record.role === 'after')?.result?.[
      field
    ];
    return before && after ? after / before - 1 : undefined;
  });
  return median(drifts);
}
