import type { ReplayPosition } from './position-store.js';

/**
 * Why a stored position cannot be resumed from, or undefined when it can: there is none, or it
 * is older than the retention (Salesforce keeps events 72 h), so the events after it may be gone.
 */
export function unusablePosition(
  stored: ReplayPosition | undefined,
  topic: string,
  now: number,
  retentionMs: number,
): string | undefined {
  if (stored === undefined) return `no stored replay position for ${topic}`;
  const ageMs = now - stored.savedAt;
  if (ageMs <= retentionMs) return undefined;
  return `the stored replay position ${stored.replayId} is ${hours(ageMs)} old, beyond the ${hours(retentionMs)} retention`;
}

function hours(ms: number): string {
  return `${Math.round((ms / 3_600_000) * 10) / 10} h`;
}
