import { CacheError } from '../errors.js';

/**
 * Redis's glob (`*`, `?`, `[abc]`, `[^a-z]`, `\x`), matched the way Redis's `stringmatchlen`
 * matches it, so the memory store, core's own filters and Redis's `SCAN MATCH` agree on every
 * pattern we accept: over UTF-8 bytes (`?` is one byte), a class ends at the first unescaped `]`
 * (`[]` is an empty class), `x-y` is a range wherever two more bytes follow the `x` (even `]`),
 * and a reversed range is swapped. Unlike Redis we refuse an unterminated class and a trailing
 * lone backslash rather than guess what was meant.
 *
 * Matching cannot backtrack exponentially, whatever the pattern: each `?`, class or literal byte
 * consumes exactly one byte, so only the most recent `*` ever needs to be retried (the classic
 * greedy wildcard match). A key of n bytes against m tokens costs at most n * m steps; a compiled
 * RegExp of `*a*a*...*b` took seconds for a 36-byte key.
 */
export interface GlobMatcher {
  test(key: string): boolean;
  /** Match steps taken so far: how much work this matcher has done (see `EventLoopTurns`). */
  readonly steps: number;
}

const STAR = -1;
const ANY = -2;
const CLASS = -3;

interface ClassToken {
  readonly negated: boolean;
  /** Bytes listed (or escaped) in the class. */
  readonly members: readonly number[];
  /** Pairs of low, high bounds, compared as C's signed `char` (see `signed`). */
  readonly ranges: readonly number[];
}

const BACKSLASH = 0x5c;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const CARET = 0x5e;
const DASH = 0x2d;

/** Compiles a pattern; throws E_INVALID_PATTERN for an unterminated class or a trailing backslash. */
export function compileGlob(pattern: string): GlobMatcher {
  const bytes = Buffer.from(pattern, 'utf8');
  // kinds[i] is a byte (>= 0) to match literally, or STAR, ANY or CLASS (with classes[i]).
  const kinds: number[] = [];
  const classes: Array<ClassToken | undefined> = [];
  let index = 0;
  while (index < bytes.length) {
    const byte = bytes[index] as number;
    if (byte === 0x2a) {
      if (kinds[kinds.length - 1] !== STAR) push(kinds, classes, STAR);
      index++;
    } else if (byte === 0x3f) {
      push(kinds, classes, ANY);
      index++;
    } else if (byte === BACKSLASH) {
      if (index + 1 >= bytes.length) invalid(pattern, 'ends with a lone backslash');
      push(kinds, classes, bytes[index + 1] as number);
      index += 2;
    } else if (byte === OPEN) {
      const parsed = parseClass(bytes, index + 1, pattern);
      push(kinds, classes, CLASS, parsed.token);
      index = parsed.next;
    } else {
      push(kinds, classes, byte);
      index++;
    }
  }
  return new Matcher(kinds, classes);
}

function push(kinds: number[], classes: Array<ClassToken | undefined>, kind: number, token?: ClassToken) {
  kinds.push(kind);
  classes.push(token);
}

/** Mirrors the class loop of Redis's `stringmatchlen`, byte for byte. */
function parseClass(bytes: Buffer, start: number, pattern: string): { token: ClassToken; next: number } {
  let index = start;
  const negated = bytes[index] === CARET;
  if (negated) index++;
  const members: number[] = [];
  const ranges: number[] = [];
  while (true) {
    const remaining = bytes.length - index;
    if (remaining <= 0) invalid(pattern, 'has an unterminated [');
    const byte = bytes[index] as number;
    if (byte === BACKSLASH && remaining >= 2) {
      members.push(bytes[index + 1] as number);
      index += 2;
    } else if (byte === CLOSE) {
      return { token: { negated, members, ranges }, next: index + 1 };
    } else if (remaining >= 3 && bytes[index + 1] === DASH) {
      const low = signed(byte);
      const high = signed(bytes[index + 2] as number);
      ranges.push(Math.min(low, high), Math.max(low, high));
      index += 3;
    } else {
      members.push(byte);
      index++;
    }
  }
}

/** Redis compares range bounds as (signed on x86 and ARM Linux) `char`s: bytes >= 0x80 are negative. */
function signed(byte: number): number {
  return byte >= 0x80 ? byte - 0x100 : byte;
}

function invalid(pattern: string, reason: string): never {
  throw new CacheError('E_INVALID_PATTERN', `pattern ${JSON.stringify(pattern)} ${reason}`);
}

class Matcher implements GlobMatcher {
  steps = 0;

  constructor(
    private readonly kinds: readonly number[],
    private readonly classes: ReadonlyArray<ClassToken | undefined>,
  ) {}

  test(key: string): boolean {
    return isAscii(key) ? this.match(key, asciiAt) : this.match(Buffer.from(key, 'utf8'), bufferAt);
  }

  private match<S>(subject: S & { length: number }, byteAt: (subject: S, index: number) => number): boolean {
    const { kinds } = this;
    const length = subject.length;
    let token = 0;
    let position = 0;
    let starToken = -1;
    let starPosition = 0;
    let steps = 0;
    while (position < length) {
      steps++;
      if (token < kinds.length) {
        const kind = kinds[token] as number;
        if (kind === STAR) {
          starToken = token++;
          starPosition = position;
          continue;
        }
        if (this.matchesByte(kind, token, byteAt(subject, position))) {
          token++;
          position++;
          continue;
        }
      }
      // Retry the last star one byte further on; earlier stars never need retrying.
      if (starToken < 0) {
        this.steps += steps;
        return false;
      }
      token = starToken + 1;
      position = ++starPosition;
    }
    while (kinds[token] === STAR) token++;
    this.steps += steps;
    return token === kinds.length;
  }

  private matchesByte(kind: number, token: number, byte: number): boolean {
    if (kind >= 0) return kind === byte;
    if (kind === ANY) return true;
    const { negated, members, ranges } = this.classes[token] as ClassToken;
    let found = members.includes(byte);
    if (!found) {
      const value = signed(byte);
      for (let index = 0; index < ranges.length && !found; index += 2) {
        found = value >= (ranges[index] as number) && value <= (ranges[index + 1] as number);
      }
    }
    return found !== negated;
  }
}

function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

const asciiAt = (text: string, index: number) => text.charCodeAt(index);
const bufferAt = (bytes: Buffer, index: number) => bytes[index] as number;
