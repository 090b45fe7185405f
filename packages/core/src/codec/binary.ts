import { CacheError } from '../errors.js';
import type { Envelope } from './envelope.js';
import type { Codec } from './json.js';

/**
 * A codec's form as bytes, for a codec that wraps it. Encryption works on bytes: a compressed
 * entry is encrypted as its compressed bytes and base64-encoded once, rather than as base64 text
 * encoded to base64 again (16/9 of the compressed size instead of 4/3).
 */
export interface BinaryForm {
  encode(envelope: Envelope, key: string): Buffer;
  decode(bytes: Buffer, key: string): unknown;
}

/** Where a codec of this package keeps its binary form. */
export const binaryForm: unique symbol = Symbol.for('@org/cache-core/codec-binary-form') as never;

/** Codecs whose output is ciphertext: compressing it would only waste CPU. */
export const encryptingCodecs = new WeakSet<Codec>();

/** The codec's own binary form, or its text as UTF-8 (any codec a user wrote). */
export function binaryFormOf(codec: Codec): BinaryForm {
  const own = (codec as { [binaryForm]?: BinaryForm })[binaryForm];
  if (own !== undefined) return own;
  return {
    encode: (envelope, key) => Buffer.from(codec.encode(envelope, key), 'utf8'),
    decode: (bytes, key) => codec.decode(bytes.toString('utf8'), key),
  };
}

/** Throws E_INVALID_OPTION unless `value` is absent or has the shape of a codec. */
export function optionalCodec(value: unknown, owner: string): Codec | undefined {
  if (value === undefined) return undefined;
  const candidate = value as Partial<Codec> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.encode !== 'function' ||
    typeof candidate.decode !== 'function' ||
    typeof candidate.name !== 'string'
  ) {
    throw new CacheError('E_INVALID_OPTION', `${owner}: inner must be a codec (name, encode(), decode())`);
  }
  return candidate as Codec;
}

/** The error a codec's decode throws for an entry it cannot read. */
export function unreadable(codec: string, reason: string, key: string, cause?: unknown): CacheError {
  return new CacheError('E_CORRUPT_ENTRY', `${codec}: cannot decode the entry: ${reason}`, { key, cause });
}
