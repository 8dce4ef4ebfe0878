/** One-click approval: signed links sent with an approval request, redeemed on the executor's confirmation page. */
import type { GateName } from '../build.js';

export interface ApprovalLinks {
  approveUrl: string;
  rejectUrl: string;
  /** ISO time after which both links are refused. */
  expiresAt: string;
}

export interface ApprovalLinkIssuer {
  /** Signed links for the gate the build waits at (HMAC over build, gate, decision and expiry). */
  linksFor(buildId: string, gate: GateName): ApprovalLinks;
}
