import { type Envelope, parseEnvelopeText } from './envelope.js';

/**
 * Turns envelopes into what a serializing store keeps, and back. The default is plain JSON text,
 * readable with `redis-cli`; compression (`compressedCodec`) and encryption (`encryptedCodec`)
 * are codecs a user opts into. `key` is the entry's full key (with the cache's prefix). `decode`
 * may return anything and may throw: core validates the shape, and counts a throw or a bad shape
 * as a corrupt entry (a miss, replaced by the next fetch).
 */
export interface Codec {
  readonly name: string;
  encode(envelope: Envelope, key: string): string;
  decode(stored: string, key: string): unknown;
}

export const jsonCodec: Codec = {
  name: 'json',
  encode: (envelope) => JSON.stringify(envelope),
  decode: (stored) => parseEnvelopeText(stored),
};
