import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { CacheError } from '../errors.js';
import { binaryFormOf, encryptingCodecs, optionalCodec, unreadable } from './binary.js';
import { type Codec, jsonCodec } from './json.js';

export interface EncryptedCodecOptions {
  /**
   * The key ring: key id -> a 32-byte AES-256 key (`Buffer.from(secret, 'base64')`). Every key
   * decrypts; the id of the one that encrypted an entry travels in it. Ids are 1-64 characters
   * of `A-Z a-z 0-9 _ . -` (a date such as `2026-12` rotates well).
   */
  keys: Readonly<Record<string, Uint8Array>>;
  /** The id of the key that encrypts new entries; it must be in `keys`. */
  currentKeyId: string;
  /**
   * What is encrypted: the codec turning the envelope into text. Default `jsonCodec`;
   * `compressedCodec()` compresses before encrypting (ciphertext does not compress).
   */
  inner?: Codec;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
// 96-bit random IVs, the size GCM is specified for: rotate keys well before 2^32 writes per key.
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Format version: `enc1:<key id>:<base64 of IV, ciphertext, tag>`. */
const HEADER = 'enc1:';
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Entries encrypted with AES-256-GCM under a key ring. The entry's full key is the associated
 * data, so a ciphertext copied under another key does not decrypt. An entry that does not decrypt
 * (unknown key id, tampered, another key's ciphertext, plaintext from a writer that does not
 * encrypt, garbage) makes `decode` throw `E_CORRUPT_ENTRY`: a counted corrupt miss through a
 * cache, never plaintext accepted. Bad options throw `E_INVALID_OPTION` here.
 *
 * Rotation: add the new key to the ring everywhere, then make it current; old entries stay
 * readable and are re-encrypted with the new key when next written; drop the old key once every
 * entry it encrypted has been rewritten or has expired (its entries then miss and are refetched).
 *
 * @example
 * const codec = encryptedCodec({
 *   keys: { '2026-12': Buffer.from(process.env.CACHE_KEY_2026_12, 'base64') },
 *   currentKeyId: '2026-12',
 *   inner: compressedCodec(), // optional: compress, then encrypt
 * });
 * const cache = createCache({ store: redisStore({ url }), prefix: 'bff', codec });
 */
export function encryptedCodec(options: EncryptedCodecOptions): Codec {
  const ring = keyRing(options);
  const currentKeyId = options.currentKeyId;
  const current = ring.get(currentKeyId) as KeyObject;
  const inner = optionalCodec(options.inner, 'encryptedCodec') ?? jsonCodec;
  const plaintext = binaryFormOf(inner);
  const name = `${ALGORITHM}(${inner.name})`;
  const header = `${HEADER}${currentKeyId}:`;

  const codec: Codec = {
    name,
    encode(envelope, key) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(ALGORITHM, current, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(key, 'utf8'));
      const body = Buffer.concat([
        iv,
        cipher.update(plaintext.encode(envelope, key)),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return header + body.toString('base64');
    },
    decode(stored, key) {
      if (!stored.startsWith(HEADER)) throw unreadable(name, 'not an encrypted entry', key);
      const separator = stored.indexOf(':', HEADER.length);
      const keyId = separator === -1 ? '' : stored.slice(HEADER.length, separator);
      const secret = ring.get(keyId);
      if (secret === undefined) throw unreadable(name, 'its key id is not in the key ring', key);
      const body = Buffer.from(stored.slice(separator + 1), 'base64');
      if (body.length < IV_BYTES + TAG_BYTES) throw unreadable(name, 'too short', key);
      const decipher = createDecipheriv(ALGORITHM, secret, body.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(key, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      let clear: Buffer;
      try {
        clear = Buffer.concat([
          decipher.update(body.subarray(IV_BYTES, body.length - TAG_BYTES)),
          decipher.final(),
        ]);
      } catch (error) {
        throw unreadable(name, 'authentication failed (tampered, or written under another key)', key, error);
      }
      return plaintext.decode(clear, key);
    },
  };
  encryptingCodecs.add(codec);
  return codec;
}

/** Validates the ring and copies it into key objects (later changes to the caller's buffers do not leak in). */
function keyRing(options: EncryptedCodecOptions): Map<string, KeyObject> {
  const invalid = (message: string) => new CacheError('E_INVALID_OPTION', `encryptedCodec: ${message}`);
  if (typeof options !== 'object' || options === null) throw invalid('options are required');
  const { keys, currentKeyId } = options;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
    throw invalid('keys must be an object of key id -> 32-byte key');
  const ring = new Map<string, KeyObject>();
  for (const [id, secret] of Object.entries(keys)) {
    if (!KEY_ID.test(id))
      throw invalid(`key id ${JSON.stringify(id)} must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    if (!(secret instanceof Uint8Array) || secret.byteLength !== KEY_BYTES) {
      const got = secret instanceof Uint8Array ? `${secret.byteLength} bytes` : typeof secret;
      throw invalid(`key ${id} must be ${KEY_BYTES} bytes (a Buffer or Uint8Array), got ${got}`);
    }
    ring.set(id, createSecretKey(Buffer.from(secret)));
  }
  if (ring.size === 0) throw invalid('keys must hold at least one key');
  if (typeof currentKeyId !== 'string' || !ring.has(currentKeyId))
    throw invalid(
      `currentKeyId ${JSON.stringify(currentKeyId)} is not in keys (${[...ring.keys()].join(', ')})`,
    );
  return ring;
}
