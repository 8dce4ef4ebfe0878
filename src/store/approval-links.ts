/** The used-link ledger over SQLite (table approval_link_uses, migration 0006). */
import type { ApprovalLinkClaims } from '../domain/approval-link.js';
import type { ApprovalLinkLedger } from '../domain/ports/approval-link-ledger.js';
import type { Db } from './db.js';

export class SqliteApprovalLinkLedger implements ApprovalLinkLedger {
  private readonly used;
  private readonly insert;
  private readonly remove;
  private readonly forgetExpired;
  private readonly markTx;

  constructor(db: Db) {
    this.used = db.prepare<[string], { nonce: string }>('SELECT nonce FROM approval_link_uses WHERE nonce = ?');
    // The primary key is the check: of two racing inserts, exactly one changes a row.
    this.insert = db.prepare<[string, string, string, string, number, string]>(
      `INSERT OR IGNORE INTO approval_link_uses (nonce, build_id, gate, decision, expires_at, used_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.remove = db.prepare<[string]>('DELETE FROM approval_link_uses WHERE nonce = ?');
    this.forgetExpired = db.prepare<[number]>('DELETE FROM approval_link_uses WHERE expires_at < ?');
    this.markTx = db.transaction((claims: ApprovalLinkClaims, usedAt: Date): boolean => {
      const nowSeconds = Math.floor(usedAt.getTime() / 1000);
      // Kept a day past expiry: a clock stepped back a little must not revive a used link.
      this.forgetExpired.run(nowSeconds - 86_400);
      const { changes } = this.insert.run(claims.nonce, claims.buildId, claims.gate, claims.decision, claims.expiresAt, usedAt.toISOString());
      return changes === 1;
    });
  }

  async isUsed(nonce: string): Promise<boolean> {
    return this.used.get(nonce) !== undefined;
  }

  async markUsed(claims: ApprovalLinkClaims, usedAt: Date): Promise<boolean> {
    return this.markTx(claims, usedAt);
  }

  async release(nonce: string): Promise<void> {
    this.remove.run(nonce);
  }
}
