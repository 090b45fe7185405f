import { escapeGlob } from '@org/cache-core';

/**
 * One message of the tiered store's coherence protocol (see `@org/cache-tiered`'s coherence.ts):
 * `{ v: 1, i: sender, s: sequence, k?: keys, p?: patterns, a?: 1 }`, full store keys and store
 * patterns. Keys are sent for writes and deletes alike: "drop your in-process copy".
 */
interface Wire {
  v: 1;
  i: string;
  s: number;
  k?: unknown;
  p?: unknown;
  a?: unknown;
}

export interface BusEvent {
  source: 'bus';
  at: string;
  channel: string;
  /** The sending instance's id and its message number. */
  sender: string;
  sequence: number;
  /** Entry keys (without the prefix) written or deleted. */
  keys: string[];
  /** Tags invalidated (their tokens were replaced). */
  tags: string[];
  /** Patterns deleted (without the prefix). */
  patterns: string[];
  /** An instance dropped everything (a keyv `clear()`). */
  all: boolean;
}

export interface UnreadableBusMessage {
  source: 'bus';
  at: string;
  channel: string;
  /** The first 200 characters of a message that is not the protocol's. */
  unreadable: string;
}

/**
 * What a bus message means for this prefix, or `undefined` when it concerns other prefixes only.
 * Never throws: the channel is shared and anything may be published on it.
 */
export function readBusMessage(
  message: string,
  channel: string,
  prefix: string,
  at = new Date(),
): BusEvent | UnreadableBusMessage | undefined {
  const wire = parse(message);
  if (wire === undefined) {
    return { source: 'bus', at: at.toISOString(), channel, unreadable: message.slice(0, 200) };
  }
  const entryPrefix = `${prefix}:`;
  const tagPrefix = `${prefix}::tag:`;
  const patternPrefix = `${escapeGlob(prefix)}:`;
  const keys: string[] = [];
  const tags: string[] = [];
  for (const key of strings(wire.k)) {
    if (key.startsWith(tagPrefix)) tags.push(key.slice(tagPrefix.length));
    else if (key.startsWith(entryPrefix) && !key.startsWith(`${prefix}::`))
      keys.push(key.slice(entryPrefix.length));
  }
  const patterns = strings(wire.p)
    .filter((pattern) => pattern.startsWith(patternPrefix))
    .map((pattern) => pattern.slice(patternPrefix.length));
  const all = wire.a === 1;
  if (keys.length === 0 && tags.length === 0 && patterns.length === 0 && !all) return undefined;
  return {
    source: 'bus',
    at: at.toISOString(),
    channel,
    sender: wire.i,
    sequence: wire.s,
    keys,
    tags,
    patterns,
    all,
  };
}

function parse(message: string): Wire | undefined {
  try {
    const wire = JSON.parse(message) as Partial<Wire> | null;
    if (wire?.v !== 1 || typeof wire.i !== 'string' || typeof wire.s !== 'number') return undefined;
    return wire as Wire;
  } catch {
    return undefined;
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
