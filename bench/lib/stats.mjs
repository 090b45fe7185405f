/** Small order statistics used by the scenarios (percentiles) and the runner (medians over repeats). */

export function median(values) {
  const present = values.filter((value) => typeof value === 'number' && Number.isFinite(value));
  if (present.length === 0) return undefined;
  const sorted = [...present].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile of already sorted numbers (`p` in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function mean(values) {
  const present = values.filter((value) => typeof value === 'number' && Number.isFinite(value));
  return present.length === 0 ? undefined : present.reduce((sum, value) => sum + value, 0) / present.length;
}
