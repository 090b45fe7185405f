import { keySlot } from './key-slot.js';

const SLOTS = 16_384;
let slotTags: string[] | undefined;

/**
 * A short string hashing to each cluster slot, built once (about 160k CRC16s, a few ms). A lease
 * key carries the tag of its entry's slot in braces, so the entry and its lease always live on
 * the same node and one Lua script can check the lease and write the entry atomically.
 */
export function slotTag(slot: number): string {
  if (slotTags === undefined) {
    const tags = new Array<string>(SLOTS);
    let filled = 0;
    for (let candidate = 0; filled < SLOTS; candidate++) {
      const tag = candidate.toString(36);
      const tagSlot = keySlot(tag);
      if (tags[tagSlot] === undefined) {
        tags[tagSlot] = tag;
        filled++;
      }
    }
    slotTags = tags;
  }
  return slotTags[slot] as string;
}

/**
 * Where the lease of an entry lives. Entries are `<prefix>:<rest>` (core refuses ':' in a prefix);
 * their leases are `<prefix>::lease:<rest>`, or `<prefix>::lease:{<slot tag>}<rest>` on a cluster.
 * Keys that are not core entries (no prefix, or internal `<prefix>::...` keys) have no lease.
 */
export class LeaseKeys {
  constructor(private readonly cluster: boolean) {}

  of(entryKey: string): string | undefined {
    const separator = entryKey.indexOf(':');
    if (separator <= 0 || entryKey.charCodeAt(separator + 1) === 58 /* ':' */) return undefined;
    const prefix = entryKey.slice(0, separator);
    const rest = entryKey.slice(separator + 1);
    if (!this.cluster) return `${prefix}::lease:${rest}`;
    return `${prefix}::lease:{${slotTag(keySlot(entryKey))}}${rest}`;
  }

  /** The glob matching the leases of entries matching `entryPattern` (`<prefix>:<glob>`). */
  patternOf(entryPattern: string): string | undefined {
    const separator = entryPattern.indexOf(':');
    if (separator <= 0) return undefined;
    const prefix = entryPattern.slice(0, separator);
    const rest = entryPattern.slice(separator + 1);
    return this.cluster ? `${prefix}::lease:{*}${rest}` : `${prefix}::lease:${rest}`;
  }

  /** The pub/sub channel on which lease releases of a prefix are announced. */
  channelOf(entryKey: string): string {
    return `${entryKey.slice(0, Math.max(0, entryKey.indexOf(':')))}::lease-released`;
  }
}
