/**
 * One-click approval: the issuer signs an approve and a reject link for the gate a build
 * waits at (sent with the approval request); the redeemer checks a link for the
 * confirmation page and, on its POST, decides the gate once. A link is refused when it
 * is altered, expired, already used, or when the build is no longer in the wait it was
 * signed for (another gate, or a later wait at the same gate).
 */
import { randomBytes } from 'node:crypto';
import { type ApprovalLinkClaims, type ApprovalLinkDecision, ApprovalLinkRefusedError } from '../domain/approval-link.js';
import type { ApprovalLinkIssuer, ApprovalLinks, ApprovalWait } from '../domain/ports/approval-links.js';
import type { ApprovalLinkLedger } from '../domain/ports/approval-link-ledger.js';
import type { BuildView, PendingApproval } from '../domain/status.js';
import { MIN_KEY_BYTES, deriveLinkKey, encodeApprovalToken, isExpired, verifyApprovalToken } from './approval-link-token.js';
import type { ApprovalLinkPreview, ApprovalLinkRedeemer, BuildService } from './service.js';

export type Clock = () => Date;

const unixSeconds = (at: Date) => Math.floor(at.getTime() / 1000);
const isoFromSeconds = (seconds: number) => new Date(seconds * 1000).toISOString();

/** The link key derived from the configured secret (APPROVAL_LINK_SECRET or the key file's). */
function linkKeyOf(secret: Buffer): Buffer {
  if (secret.length < MIN_KEY_BYTES) throw new RangeError(`An approval link key needs at least ${MIN_KEY_BYTES} bytes.`);
  return deriveLinkKey(secret);
}

/** Both are the same wait: the same gate, begun at the same millisecond (a wait's `requested_at`). */
function isSameWait(pending: PendingApproval, claims: ApprovalLinkClaims): boolean {
  return pending.gate === claims.gate && Date.parse(pending.requested_at) === Date.parse(claims.requestedAt);
}

/** Where a link points: the confirmation page on this executor. */
export function approvalLinkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/executor/approvals/${token}`;
}

export interface ApprovalLinkIssuerOptions {
  /** The secret the link key is derived from. */
  key: Buffer;
  publicUrl: string;
  /** APPROVAL_LINK_TTL. */
  ttlSeconds: number;
  now?: Clock;
}

export class HmacApprovalLinkIssuer implements ApprovalLinkIssuer {
  private readonly key: Buffer;
  private readonly now: Clock;

  constructor(private readonly options: ApprovalLinkIssuerOptions) {
    this.key = linkKeyOf(options.key);
    this.now = options.now ?? (() => new Date());
  }

  /** @throws RangeError when the wait's `requestedAt` is not a time. */
  linksFor(buildId: string, wait: ApprovalWait): ApprovalLinks {
    const expiresAt = unixSeconds(this.now()) + this.options.ttlSeconds;
    const { gate, requestedAt } = wait;
    // Each link its own nonce: using one leaves the other refused by the wait check, not by the ledger.
    const link = (decision: ApprovalLinkDecision) => {
      const claims: ApprovalLinkClaims = { buildId, gate, decision, expiresAt, requestedAt, nonce: randomBytes(16).toString('base64url') };
      return approvalLinkUrl(this.options.publicUrl, encodeApprovalToken(claims, this.key));
    };
    return { approveUrl: link('approve'), rejectUrl: link('reject'), expiresAt: isoFromSeconds(expiresAt) };
  }
}

export interface ApprovalLinkRedeemerOptions {
  /** The secret the link key is derived from (the issuer's). */
  key: Buffer;
  builds: Pick<BuildService, 'get' | 'approve'>;
  ledger: ApprovalLinkLedger;
  now?: Clock;
}

export class SignedApprovalLinkRedeemer implements ApprovalLinkRedeemer {
  private readonly key: Buffer;
  private readonly now: Clock;

  constructor(private readonly options: ApprovalLinkRedeemerOptions) {
    this.key = linkKeyOf(options.key);
    this.now = options.now ?? (() => new Date());
  }

  async inspect(token: string): Promise<ApprovalLinkPreview> {
    return (await this.check(token)).preview;
  }

  async redeem(token: string, feedback?: string): Promise<{ preview: ApprovalLinkPreview; build: BuildView }> {
    const { claims, preview } = await this.check(token);
    // Consumed before deciding: of two POSTs racing, only one reaches the decision.
    if (!(await this.options.ledger.markUsed(claims, this.now()))) throw usedRefusal();
    try {
      const build = await this.options.builds.approve(claims.buildId, {
        approved: claims.decision === 'approve',
        // The wait is part of the decision: if the build moved on since check() (another gate, or a
        // later wait at this one), the store refuses it inside its transaction.
        gate: claims.gate,
        requestedAt: claims.requestedAt,
        ...(feedback !== undefined && { feedback }),
      });
      return { preview, build };
    } catch (error) {
      // Nothing was decided (the build moved on meanwhile): the link did not do its one thing.
      await this.options.ledger.release(claims.nonce);
      throw error;
    }
  }

  /** Signature, expiry, single use, then the build: each refusal says which. */
  private async check(token: string): Promise<{ claims: ApprovalLinkClaims; preview: ApprovalLinkPreview }> {
    const claims = verifyApprovalToken(token, this.key);
    if (isExpired(claims, this.now())) {
      throw new ApprovalLinkRefusedError('expired', `This approval link expired at ${isoFromSeconds(claims.expiresAt)}.`, {
        expired_at: isoFromSeconds(claims.expiresAt),
      });
    }
    if (await this.options.ledger.isUsed(claims.nonce)) throw usedRefusal();
    const build = await this.options.builds.get(claims.buildId);
    const waiting = build.status === 'waiting_approval' ? build.pending_approval : null;
    // Exactly the wait the link was signed for: not a later wait at the same gate (a retried build).
    if (!waiting || !isSameWait(waiting, claims)) throw staleRefusal(build, claims);
    return {
      claims,
      preview: {
        buildId: build.build_id,
        dropletId: build.droplet_id,
        dropletName: build.droplet_name,
        architectIntent: build.architect_intent,
        gate: claims.gate,
        decision: claims.decision,
        summary: waiting.summary,
        requestedAt: waiting.requested_at,
        expiresAt: isoFromSeconds(claims.expiresAt),
      },
    };
  }
}

function usedRefusal(): ApprovalLinkRefusedError {
  return new ApprovalLinkRefusedError('used', 'This approval link was already used: each link decides its gate once.');
}

function staleRefusal(build: BuildView, claims: ApprovalLinkClaims): ApprovalLinkRefusedError {
  const { gate } = claims;
  const pending = build.status === 'waiting_approval' ? build.pending_approval : null;
  const waitingGate = pending?.gate ?? null;
  const message =
    waitingGate === gate
      ? `Build ${build.build_id} waits at the ${gate} gate again (since ${pending!.requested_at}); this link was for its wait from ${claims.requestedAt}: use the links of the latest approval request.`
      : `Build ${build.build_id} no longer waits at the ${gate} gate this link decides: it ${waitingGate ? `waits at the ${waitingGate} gate` : `is ${build.status}`}.`;
  return new ApprovalLinkRefusedError('stale', message, {
    build_id: build.build_id,
    gate,
    requested_at: claims.requestedAt,
    build_status: build.status,
    waiting_gate: waitingGate,
    waiting_since: pending?.requested_at ?? null,
  });
}
