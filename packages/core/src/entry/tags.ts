import { CacheError } from '../errors.js';
import { hasControlCharacter } from '../keys/keys.js';
import type { GuardedStore } from '../store/guarded-store.js';
import { syncUnknown } from '../store/store.js';
import { createTokenSource } from './tokens.js';

const MAX_TAG_LENGTH = 512;

/**
 * Dependency tracking by tag versions. Each tag has a version token in the store; an entry records
 * the tokens of its tags when its value was fetched, and a read that finds any token changed is a
 * miss. Invalidating tags writes fresh tokens in one round trip, whatever the number of dependents.
 *
 * Tokens are unique strings compared for equality, never timestamps or counters compared for
 * order: no clock has to agree across machines, and no atomic increment is needed from the store.
 * An entry never records an absent token (one is created first), so a token that disappears
 * (evicted, expired) makes its dependents miss: every failure mode errs towards a miss.
 */
export class TagVersions {
  private readonly newToken = createTokenSource();

  constructor(
    private readonly store: GuardedStore,
    private readonly keyPrefix: string,
    /** Physical lifetime of a token; `undefined` = no expiry. */
    private readonly tokenTtlMs: number | undefined,
  ) {}

  keyOf(tag: string): string {
    return this.keyPrefix + tag;
  }

  /** Current tokens, `undefined` where a tag has none, `null` where its token is unreadable. */
  async current(tags: readonly string[]): Promise<TagToken[]> {
    // In-process stores, a tiered store's L1, a Redis store's tracked tokens: no round trip.
    const known = this.currentSync(tags);
    if (known !== undefined) return known;
    const values = await this.store.getMany(tags.map((tag) => this.keyOf(tag)));
    return values.map(asToken);
  }

  /** Synchronous current tokens, when the store can answer them all synchronously; otherwise `undefined`. */
  currentSync(tags: readonly string[]): TagToken[] | undefined {
    const getSync = this.store.driver.getSync;
    if (!getSync) return undefined;
    const tokens: TagToken[] = [];
    for (const tag of tags) {
      const raw = getSync(this.keyOf(tag));
      if (raw === syncUnknown) return undefined;
      tokens.push(asToken(raw));
    }
    return tokens;
  }

  /** The tokens an entry should record: current ones, with tokens created for tags that have none. */
  async snapshot(tags: readonly string[]): Promise<Record<string, string>> {
    const tokens = await this.current(tags);
    const snapshot: Record<string, string> = Object.create(null);
    const missing: string[] = [];
    const unreadable: string[] = [];
    tags.forEach((tag, index) => {
      const token = tokens[index];
      if (token === undefined) missing.push(tag);
      else if (token === null) unreadable.push(tag);
      else snapshot[tag] = token;
    });
    const record = (which: string[], written: string[]) =>
      which.forEach((tag, index) => {
        snapshot[tag] = written[index] as string;
      });
    if (missing.length > 0) record(missing, await this.create(missing));
    // Garbage where a token should be: replaced (every entry recording it misses, as corrupt).
    if (unreadable.length > 0) record(unreadable, await this.invalidate(unreadable));
    return snapshot;
  }

  /**
   * Creates tokens for tags that have none. Two processes (or two entries fetched at once) may
   * both find a tag without a token: if each wrote its own, the last write would win and every
   * entry recorded with the other token would miss for no reason. So where the store can create
   * atomically, the first token written is the one everybody records; elsewhere the token is read
   * back after the write, which narrows the window to the time between two round trips.
   */
  private async create(tags: readonly string[]): Promise<string[]> {
    const entries = tags.map((tag) => ({
      key: this.keyOf(tag),
      value: this.newToken(),
      ttlMs: this.tokenTtlMs,
    }));
    if (this.store.setIfAbsent) return this.store.setIfAbsent(entries);
    await this.store.setMany(entries);
    if (this.store.driver.inProcess) return entries.map((entry) => entry.value);
    const stored = await this.current(tags);
    // A token gone already (evicted) is recorded as ours: the entry will miss, never hit wrongly.
    return entries.map((entry, index) => stored[index] ?? entry.value);
  }

  /** Gives every tag a new token: one round trip. Resolves to the tokens written. */
  async invalidate(tags: readonly string[]): Promise<string[]> {
    if (tags.length === 0) return [];
    const entries = tags.map((tag) => ({
      key: this.keyOf(tag),
      value: this.newToken(),
      ttlMs: this.tokenTtlMs,
    }));
    await this.store.setMany(entries);
    return entries.map((entry) => entry.value);
  }
}

/** A tag's current token: `undefined` when it has none, `null` when what is stored is not a token. */
export type TagToken = string | undefined | null;

/**
 * Whether an entry's recorded tokens are all still current: `stale` when a tag was invalidated
 * (or lost its token), `unreadable` when the store holds garbage where a token should be.
 */
export function checkSnapshot(
  snapshot: Readonly<Record<string, string>>,
  tags: readonly string[],
  tokens: readonly TagToken[],
): 'current' | 'stale' | 'unreadable' {
  let verdict: 'current' | 'stale' = 'current';
  for (let index = 0; index < tags.length; index++) {
    const token = tokens[index];
    if (token === null) return 'unreadable';
    if (snapshot[tags[index] as string] !== token) verdict = 'stale';
  }
  return verdict;
}

/** Validates and de-duplicates a tag list. */
export function normalizeTags(tags: unknown): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags)) throw new CacheError('E_INVALID_OPTION', 'tags must be an array of strings');
  const unique = new Set<string>();
  for (const tag of tags) {
    if (
      typeof tag !== 'string' ||
      tag.length === 0 ||
      tag.length > MAX_TAG_LENGTH ||
      hasControlCharacter(tag)
    ) {
      throw new CacheError(
        'E_INVALID_OPTION',
        `invalid tag ${JSON.stringify(tag)}: tags are non-empty strings without control characters, at most ${MAX_TAG_LENGTH} characters`,
      );
    }
    unique.add(tag);
  }
  return [...unique];
}

/** What `createTokenSource` makes: `<8 base64url characters>.<base 36 sequence>`. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{8}\.[0-9a-z]{1,11}$/;

function asToken(value: unknown): TagToken {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' && TOKEN_SHAPE.test(value) ? value : null;
}
