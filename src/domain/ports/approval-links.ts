/** One-click approval: signed links sent with an approval request, redeemed on the executor's confirmation page. */
import type { GateName } from '../build.js';

export interface ApprovalLinks {
  approveUrl: string;
  rejectUrl: string;
  /** ISO time after which both links are refused. */
  expiresAt: string;
}

/** One wait of a build at a gate: the pending approval's gate and `requested_at`. */
export interface ApprovalWait {
  gate: GateName;
  requestedAt: string;
}

export interface ApprovalLinkIssuer {
  /**
   * Signed links for one wait of the build (HMAC over build, gate, the wait's start,
   * decision and expiry): refused once the build is past that wait, even when it later
   * waits at the same gate again.
   */
  linksFor(buildId: string, wait: ApprovalWait): ApprovalLinks;
}
