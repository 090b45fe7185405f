/**
 * The Redis Cluster slot of a key, exactly as Redis computes it: CRC16-XMODEM of the key's UTF-8
 * bytes (or of its hash tag: the text between the first `{` and the first `}` after it, when not
 * empty), modulo 16384.
 *
 * cluster-key-slot 1.1.2 (pinned by node-redis 5.12) gets keys such as `a{}}` wrong: it keeps
 * looking past an empty `{}`. One user-supplied id of that shape was enough to send commands to
 * the wrong node until the breaker opened for every key, so the adapter computes slots itself
 * and routes by a hash tag that no library can misread.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b); // '{'
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(bytes, open + 1, close) & 0x3fff;
  }
  return crc16(bytes, 0, bytes.length) & 0x3fff;
}

const table = (() => {
  const values = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    values[byte] = crc & 0xffff;
  }
  return values;
})();

function crc16(bytes: Buffer, start: number, end: number): number {
  let crc = 0;
  for (let index = start; index < end; index++) {
    crc = ((crc << 8) ^ (table[((crc >> 8) ^ (bytes[index] as number)) & 0xff] as number)) & 0xffff;
  }
  return crc;
}

/**
 * The indexes of `keys` grouped by slot, in first-seen order: a multi-key command (MGET) must not
 * cross slots on a cluster, even between slots of one node (CROSSSLOT).
 */
export function indexesBySlot(keys: readonly string[]): Map<number, number[]> {
  const bySlot = new Map<number, number[]>();
  keys.forEach((key, index) => {
    const slot = keySlot(key);
    const indexes = bySlot.get(slot);
    if (indexes === undefined) bySlot.set(slot, [index]);
    else indexes.push(index);
  });
  return bySlot;
}
