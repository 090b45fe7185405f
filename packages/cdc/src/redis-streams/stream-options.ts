import { CacheError } from '@org/cache-core';

/** A stream, group or consumer name: a non-empty string without whitespace or control characters. */
export function assertName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512 || hasSpaceOrControl(value))
    throw new CacheError(
      'E_INVALID_OPTION',
      `redis stream: ${what} must be a non-empty string without spaces or control characters, got ${JSON.stringify(value)}`,
    );
  return value;
}

function hasSpaceOrControl(value: string): boolean {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return false;
}
