import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  gunzipSync,
  gzipSync,
  type ZlibOptions,
} from 'node:zlib';
import { CacheError } from '../errors.js';
import {
  type BinaryForm,
  binaryForm,
  binaryFormOf,
  encryptingCodecs,
  optionalCodec,
  unreadable,
} from './binary.js';
import type { Envelope } from './envelope.js';
import { type Codec, jsonCodec } from './json.js';

export type CompressionAlgorithm = 'brotli' | 'gzip';

export interface CompressedCodecOptions {
  /** Default `brotli` (at quality 4 it is faster than gzip's default level and smaller). */
  algorithm?: CompressionAlgorithm;
  /** Entries whose encoded text is shorter than this many bytes are stored uncompressed. Default 1024. */
  threshold?: number;
  /** brotli quality 0-11 (default 4; 11 takes ~200 ms for 100 KB) or gzip level 1-9 (default 6). */
  level?: number;
  /**
   * The largest entry, in bytes before compression, that is written or read back. Decompression
   * stops there, so an entry from another writer that inflates without end (a zip bomb) is a
   * corrupt miss, not a heap exhausted; an entry larger than this is refused when written
   * (E_INVALID_VALUE), since it could not be read. Default 32 MiB.
   */
  maxDecodedBytes?: number;
  /** What is compressed: the codec turning the envelope into text. Default `jsonCodec`. */
  inner?: Codec;
}

const DEFAULT_THRESHOLD = 1024;
const DEFAULT_MAX_DECODED_BYTES = 32 * 1024 * 1024;
const LEVELS: Record<CompressionAlgorithm, { min: number; max: number; default: number }> = {
  brotli: { min: 0, max: 11, default: 4 },
  gzip: { min: 1, max: 9, default: 6 },
};

/**
 * In text (what the store keeps): `raw:<inner text>` below the threshold, `gzip:<base64>` or
 * `brotli:<base64>` above it. As bytes (inside encryption): one marker byte, then the payload.
 * Any of them decodes whatever the configured algorithm, so switching algorithm keeps entries;
 * so does text starting with `{`, the plain JSON of entries written before compression was on.
 */
const FORMATS = [
  { text: 'raw:', byte: 0 },
  { text: 'gzip:', byte: 1 },
  { text: 'brotli:', byte: 2 },
] as const;
type Format = (typeof FORMATS)[number];
const RAW = FORMATS[0];

/**
 * Compresses entries above a size threshold with brotli or gzip (node:zlib). Compose with
 * encryption as `encryptedCodec({ ..., inner: compressedCodec() })`: compress, then encrypt.
 *
 * @example
 * createCache({ store: redisStore({ url }), codec: compressedCodec({ algorithm: 'gzip', threshold: 2048 }) });
 */
export function compressedCodec(options: CompressedCodecOptions = {}): Codec {
  const settings = validate(options);
  const inner = settings.inner;
  const innerBytes = binaryFormOf(inner);
  const name = `${settings.algorithm}(${inner.name})`;
  const written = settings.algorithm === 'gzip' ? FORMATS[1] : FORMATS[2];
  const compress =
    settings.algorithm === 'gzip'
      ? (input: Buffer) => gzipSync(input, { level: settings.level })
      : (input: Buffer) =>
          brotliCompressSync(input, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: settings.level,
              [constants.BROTLI_PARAM_SIZE_HINT]: input.length,
            },
          });
  const bounded: ZlibOptions = { maxOutputLength: settings.maxDecodedBytes };
  const expand = (format: Format, payload: Buffer, key: string): Buffer => {
    try {
      return format === FORMATS[1] ? gunzipSync(payload, bounded) : brotliDecompressSync(payload, bounded);
    } catch (error) {
      const reason =
        (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
          ? `it inflates past maxDecodedBytes (${settings.maxDecodedBytes})`
          : `${format.text.slice(0, -1)} data is invalid`;
      throw unreadable(name, reason, key, error);
    }
  };
  const refuseLarge = (bytes: number, key: string) => {
    if (bytes <= settings.maxDecodedBytes) return;
    throw new CacheError(
      'E_INVALID_VALUE',
      `${name}: the encoded entry is ${bytes} bytes, over maxDecodedBytes (${settings.maxDecodedBytes}): it could not be read back`,
      { key },
    );
  };
  /** Compressed, or undefined when below the threshold or when compressing does not shrink it. */
  const squeeze = (input: Buffer): Buffer | undefined => {
    if (input.length < settings.threshold) return undefined;
    const output = compress(input);
    return output.length < input.length ? output : undefined;
  };

  const bytes: BinaryForm = {
    encode(envelope, key) {
      const input = innerBytes.encode(envelope, key);
      refuseLarge(input.length, key);
      const output = squeeze(input);
      return output === undefined
        ? Buffer.concat([Buffer.of(RAW.byte), input])
        : Buffer.concat([Buffer.of(written.byte), output]);
    },
    decode(stored, key) {
      const format = FORMATS.find((candidate) => candidate.byte === stored[0]);
      if (format === undefined) throw unreadable(name, 'unknown compression marker', key);
      const payload = stored.subarray(1);
      return innerBytes.decode(format === RAW ? payload : expand(format, payload, key), key);
    },
  };

  return {
    name,
    [binaryForm]: bytes,
    encode(envelope: Envelope, key: string) {
      const text = inner.encode(envelope, key);
      const input = Buffer.from(text, 'utf8');
      refuseLarge(input.length, key);
      const output = squeeze(input);
      return output === undefined ? RAW.text + text : written.text + output.toString('base64');
    },
    decode(stored: string, key: string) {
      const format = FORMATS.find((candidate) => stored.startsWith(candidate.text));
      // Plain JSON written before compression was turned on stays readable: no wave of misses.
      if (format === undefined && stored.startsWith('{')) return inner.decode(stored, key);
      if (format === undefined) throw unreadable(name, 'no compression marker', key);
      const payload = stored.slice(format.text.length);
      if (format === RAW) return inner.decode(payload, key);
      return inner.decode(expand(format, Buffer.from(payload, 'base64'), key).toString('utf8'), key);
    },
  } as Codec;
}

interface Settings {
  algorithm: CompressionAlgorithm;
  threshold: number;
  level: number;
  maxDecodedBytes: number;
  inner: Codec;
}

function validate(options: CompressedCodecOptions): Settings {
  const invalid = (message: string) => new CacheError('E_INVALID_OPTION', `compressedCodec: ${message}`);
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  const algorithm = options.algorithm ?? 'brotli';
  if (algorithm !== 'brotli' && algorithm !== 'gzip')
    throw invalid(`algorithm must be 'brotli' or 'gzip' (got ${JSON.stringify(algorithm)})`);
  const range = LEVELS[algorithm];
  const level = options.level ?? range.default;
  if (!Number.isInteger(level) || level < range.min || level > range.max)
    throw invalid(`level for ${algorithm} must be an integer ${range.min}-${range.max} (got ${level})`);
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (!Number.isSafeInteger(threshold) || threshold < 0)
    throw invalid(`threshold must be a whole number of bytes >= 0 (got ${threshold})`);
  const maxDecodedBytes = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  // Buffers above 2 GiB do not exist on every platform Node runs on; zlib refuses them.
  if (!Number.isSafeInteger(maxDecodedBytes) || maxDecodedBytes < 1 || maxDecodedBytes > 2 ** 31 - 1)
    throw invalid(`maxDecodedBytes must be a whole number of bytes, 1 to 2^31-1 (got ${maxDecodedBytes})`);
  const inner = optionalCodec(options.inner, 'compressedCodec') ?? jsonCodec;
  if (encryptingCodecs.has(inner))
    throw invalid(
      'ciphertext does not compress: compress, then encrypt with encryptedCodec({ ..., inner: compressedCodec() })',
    );
  return { algorithm, threshold, level, maxDecodedBytes, inner };
}
