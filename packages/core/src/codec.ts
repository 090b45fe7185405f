import { type Envelope, parseEnvelopeText } from './envelope.js';

/**
 * Turns envelopes into what a serializing store keeps, and back. The default is plain JSON text,
 * readable with `redis-cli`; compression or encryption are codecs a user opts into. `decode` may
 * return anything: core validates the shape and counts a bad one as a corrupt entry.
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
