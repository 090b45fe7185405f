/**
 * Salesforce replay ids are unsigned 64-bit integers. JavaScript numbers hold integers exactly
 * only up to 2^53 - 1, so this package keeps replay ids as decimal strings and converts them only
 * at the client boundary.
 */

const MAX_REPLAY_ID = 2n ** 64n - 1n;
const decimal = /^\d{1,20}$/;

/** A replay id read from a client, and whether it is the exact value the server sent. */
export interface ReadReplayId {
  /** Decimal digits, no leading zeros. */
  id: string;
  /**
   * False when the client handed over a number beyond 2^53: it was already rounded, so resuming
   * from it could skip or repeat events. Such an id is never stored as a position.
   */
  exact: boolean;
}

/**
 * Reads a replay id in any form a client may give it: a number (v4 and v5 decode the 8 bytes
 * with `Number(...)`), a bigint, a decimal string, or the raw 8 big-endian bytes.
 */
export function readReplayId(value: unknown): ReadReplayId | undefined {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) return undefined;
    const id = BigInt(value);
    return id > MAX_REPLAY_ID ? undefined : { id: id.toString(), exact: Number.isSafeInteger(value) };
  }
  if (typeof value === 'bigint') return inRange(value);
  if (typeof value === 'string') return decimal.test(value) ? inRange(BigInt(value)) : undefined;
  if (value instanceof Uint8Array && value.length > 0 && value.length <= 8) {
    let id = 0n;
    for (const byte of value) id = (id << 8n) | BigInt(byte);
    return { id: id.toString(), exact: true };
  }
  return undefined;
}

function inRange(id: bigint): ReadReplayId | undefined {
  return id < 0n || id > MAX_REPLAY_ID ? undefined : { id: id.toString(), exact: true };
}

/** True for a stored replay id: decimal digits within 64 bits. */
export function isReplayId(value: unknown): value is string {
  return typeof value === 'string' && readReplayId(value)?.exact === true;
}

/**
 * The replay id as the client should receive it. Both client versions encode it with
 * `BigInt(replayId)`, which parses a number, a bigint or a decimal string alike, so:
 * a number when that is exact (what the client documents), the decimal string otherwise
 * (exact; a bigint would be exact too but breaks loggers that `JSON.stringify` the request).
 */
export function toClientReplayId(id: string): number | string {
  const asNumber = Number(id);
  return Number.isSafeInteger(asNumber) ? asNumber : id;
}
