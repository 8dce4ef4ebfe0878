/**
 * Registry entry tokens: the credential that makes an entry its registrant's. Issued as 32
 * random bytes (base64url); the registry keeps only the sha256, and compares digests in
 * constant time so neither a token's content nor its length leaks through timing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newEntryToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What the registry stores: the hex sha256 of the token. */
export function entryTokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Whether `presented` is the token whose digest is `storedDigest`; false when either is missing. */
export function entryTokenMatches(presented: string | undefined, storedDigest: string | null): boolean {
  if (presented === undefined || storedDigest === null) return false;
  const expected = Buffer.from(storedDigest, 'hex');
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}
