/** The used-link ledger: what makes a signed approval link single use. */
import type { ApprovalLinkClaims } from '../approval-link.js';

export interface ApprovalLinkLedger {
  /** Whether the link with this nonce already decided its gate. */
  isUsed(nonce: string): Promise<boolean>;
  /**
   * Records the link as used: one atomic insert-or-fail, so of two redemptions racing
   * only one gets `true`. Links past their expiry may be forgotten here (they can never
   * verify again).
   */
  markUsed(claims: ApprovalLinkClaims, usedAt: Date): Promise<boolean>;
  /** Undoes `markUsed` when the decision it guarded could not be made (the link decided nothing). */
  release(nonce: string): Promise<void>;
}
