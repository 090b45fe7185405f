import { CacheError } from './errors.js';
import type { GuardedStore } from './guarded-store.js';
import { hasControlCharacter } from './keys.js';
import { syncUnknown } from './store.js';
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

  /** Current tokens, `undefined` where a tag has none. */
  async current(tags: readonly string[]): Promise<Array<string | undefined>> {
    const getSync = this.store.driver.getSync;
    if (getSync && this.store.driver.inProcess) return tags.map((tag) => asToken(getSync(this.keyOf(tag))));
    const values = await this.store.getMany(tags.map((tag) => this.keyOf(tag)));
    return values.map(asToken);
  }

  /** Synchronous current tokens, when the store can answer them all synchronously; otherwise `undefined`. */
  currentSync(tags: readonly string[]): Array<string | undefined> | undefined {
    const getSync = this.store.driver.getSync;
    if (!getSync) return undefined;
    const tokens: Array<string | undefined> = [];
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
    const created: Array<{ key: string; value: unknown; ttlMs: number | undefined }> = [];
    tags.forEach((tag, index) => {
      let token = tokens[index];
      if (token === undefined) {
        token = this.newToken();
        created.push({ key: this.keyOf(tag), value: token, ttlMs: this.tokenTtlMs });
      }
      snapshot[tag] = token;
    });
    if (created.length > 0) await this.store.setMany(created);
    return snapshot;
  }

  /** Gives every tag a new token: one round trip. */
  async invalidate(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.store.setMany(
      tags.map((tag) => ({ key: this.keyOf(tag), value: this.newToken(), ttlMs: this.tokenTtlMs })),
    );
  }
}

export function matchesSnapshot(
  snapshot: Readonly<Record<string, string>>,
  tags: string[],
  tokens: Array<string | undefined>,
): boolean {
  for (let index = 0; index < tags.length; index++) {
    if (snapshot[tags[index] as string] !== tokens[index]) return false;
  }
  return true;
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

function asToken(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
