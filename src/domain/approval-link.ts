/**
 * What a signed one-click approval link says, and why one is refused. The link's
 * payload is parsed here, strictly, after its signature checked out: nothing of it is
 * used before that.
 */
import { z } from 'zod';
import type { GateName } from './build.js';
import { AppError } from './errors.js';

export const APPROVAL_LINK_DECISIONS = ['approve', 'reject'] as const;
export type ApprovalLinkDecision = (typeof APPROVAL_LINK_DECISIONS)[number];

/** The signed facts of one link. Times are unix seconds. */
export interface ApprovalLinkClaims {
  buildId: string;
  gate: GateName;
  decision: ApprovalLinkDecision;
  expiresAt: number;
  /**
   * The wait the link decides: its pending approval's `requested_at` (ISO, ms). A later
   * wait at the same gate (a retried build) has another one, so the link is stale there.
   */
  requestedAt: string;
  /** Random, unique per link: what the used-link ledger records. */
  nonce: string;
}

const unixSeconds = z.number().int().min(0).max(2 ** 40);
/** Unix milliseconds a Date can hold. */
const unixMillis = z.number().int().min(0).max(8.64e15);

/** The payload as it travels (short keys keep the URL short). */
export const approvalLinkPayload = z
  .object({
    b: z.string().regex(/^build-[a-z0-9-]{1,120}$/),
    g: z.enum(['after_spec', 'before_deploy']),
    d: z.enum(APPROVAL_LINK_DECISIONS),
    e: unixSeconds,
    w: unixMillis,
    n: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  })
  .strict();
export type ApprovalLinkPayload = z.infer<typeof approvalLinkPayload>;

export function claimsFromPayload(payload: ApprovalLinkPayload): ApprovalLinkClaims {
  const requestedAt = new Date(payload.w).toISOString();
  return { buildId: payload.b, gate: payload.g, decision: payload.d, expiresAt: payload.e, requestedAt, nonce: payload.n };
}

/** @throws RangeError when `requestedAt` is not a time (a link must name the wait it decides). */
export function payloadFromClaims(claims: ApprovalLinkClaims): ApprovalLinkPayload {
  const w = Date.parse(claims.requestedAt);
  if (Number.isNaN(w)) throw new RangeError(`An approval link needs the time its wait began, not ${JSON.stringify(claims.requestedAt)}.`);
  return { b: claims.buildId, g: claims.gate, d: claims.decision, e: claims.expiresAt, w, n: claims.nonce };
}

/**
 * Why a link is refused:
 * - `invalid` (400): not a link we signed, or altered;
 * - `expired` (410): signed, but past its expiry;
 * - `used` (409): it already decided its gate;
 * - `stale` (409): the build no longer waits in the link's wait (decided, cancelled, another gate, or a later wait at the same gate).
 */
export type ApprovalLinkRefusal = 'invalid' | 'expired' | 'used' | 'stale';

const REFUSAL_STATUS: Record<ApprovalLinkRefusal, number> = { invalid: 400, expired: 410, used: 409, stale: 409 };

export class ApprovalLinkRefusedError extends AppError {
  readonly status: number;
  constructor(
    readonly reason: ApprovalLinkRefusal,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(`APPROVAL_LINK_${reason.toUpperCase()}`, message, { reason, ...details });
    this.status = REFUSAL_STATUS[reason];
  }
}
