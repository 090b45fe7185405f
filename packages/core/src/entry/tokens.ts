import { randomBytes } from 'node:crypto';

/**
 * Unique opaque tokens (`<random instance id>.<sequence>`): compared for equality only, never
 * for order, so no clock has to agree across machines. Used for tag versions and fetch leases.
 */
export function createTokenSource(): () => string {
  const instance = randomBytes(6).toString('base64url');
  let sequence = 0;
  return () => `${instance}.${(++sequence).toString(36)}`;
}
