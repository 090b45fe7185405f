import type { GroupPosition } from './stream-commands.js';

/**
 * How many entries the group never read are gone from the stream (trimmed by the cap, or
 * deleted): its lag (entries added and not yet delivered to it) beyond what the stream still
 * holds. Comparing ids instead cannot tell: a group that read everything also sits before the
 * first entry once older ones are trimmed. 0 when nothing was lost or Redis cannot tell (before
 * 7.0, or a read counter Redis no longer knows exactly, such as for a group created elsewhere
 * until it has caught up with the end of the stream).
 */
export function unreadTrimmed(position: GroupPosition): number {
  if (position.lag === undefined) return 0;
  return Math.max(0, position.lag - position.length);
}
