/**
 * The approval link token: base64url(JSON payload) + "." + base64url(HMAC-SHA256(key,
 * payload segment)). The signature is checked, in constant time, over the exact
 * segment received, before any of the payload is decoded or believed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  type ApprovalLinkClaims,
  ApprovalLinkRefusedError,
  approvalLinkPayload,
  claimsFromPayload,
  payloadFromClaims,
} from '../domain/approval-link.js';

/** A token's shape before anything else is looked at (also bounds the work a request can cause). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,640}\.[A-Za-z0-9_-]{43}$/;

/** A key shorter than this is refused: HMAC-SHA256's security rests on it. */
export const MIN_KEY_BYTES = 16;

/** What the link key is derived for: a new version of the token format gets a new label (and key). */
export const LINK_KEY_LABEL = 'approval-link/v1';

/**
 * The key tokens are signed with, derived from the configured secret: never the secret
 * itself, so a secret also used elsewhere for HMACs (a webhook signature) gives nobody a
 * signature that passes as a link's.
 */
export function deriveLinkKey(secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(LINK_KEY_LABEL, 'utf8').digest();
}

function sign(key: Buffer, payloadSegment: string): string {
  return createHmac('sha256', key).update(payloadSegment, 'ascii').digest('base64url');
}

/** `key`: the derived link key (`deriveLinkKey`), not the configured secret. */
export function encodeApprovalToken(claims: ApprovalLinkClaims, key: Buffer): string {
  const segment = Buffer.from(JSON.stringify(payloadFromClaims(claims)), 'utf8').toString('base64url');
  return `${segment}.${sign(key, segment)}`;
}

const invalid = () => new ApprovalLinkRefusedError('invalid', 'This approval link is not valid: it was not issued by this executor, or it was altered.');

/**
 * The claims of a token this key signed. Compares the signature as text: base64url
 * decoding is lenient (a changed last character can decode to the same bytes), so
 * only the exact canonical encoding counts.
 * @throws ApprovalLinkRefusedError `invalid`; expiry is the caller's check (`isExpired`).
 */
export function verifyApprovalToken(token: string, key: Buffer): ApprovalLinkClaims {
  if (!TOKEN_SHAPE.test(token)) throw invalid();
  const [segment, signature] = token.split('.') as [string, string];
  const expected = Buffer.from(sign(key, segment), 'ascii');
  const presented = Buffer.from(signature, 'ascii');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = approvalLinkPayload.safeParse(decoded);
  if (!parsed.success) throw invalid();
  return claimsFromPayload(parsed.data);
}

export function isExpired(claims: ApprovalLinkClaims, now: Date): boolean {
  return Math.floor(now.getTime() / 1000) >= claims.expiresAt;
}
