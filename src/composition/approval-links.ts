/**
 * The approval link key and the issuer/redeemer over it. The key is APPROVAL_LINK_SECRET,
 * else 32 random bytes made once in DATA_DIR/approval-link.key (0600), so links sent
 * before a restart still verify after it. Links are signed with a key derived from it
 * (pipeline/approval-link-token.ts), never with the secret itself.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalLinkIssuer } from '../domain/ports/approval-links.js';
import { MIN_KEY_BYTES } from '../pipeline/approval-link-token.js';
import { HmacApprovalLinkIssuer, SignedApprovalLinkRedeemer } from '../pipeline/approval-links.js';
import type { ApprovalLinkRedeemer, BuildService } from '../pipeline/service.js';
import { SqliteApprovalLinkLedger } from '../store/approval-links.js';
import type { Db } from '../store/db.js';
import { type Config, ConfigError } from './config.js';

export const APPROVAL_LINK_KEY_FILE = 'approval-link.key';
const KEY_TEXT = /^[0-9a-f]{64}$/;

/** Reads the key file, creating it first when missing (exclusive create: two starts cannot both write one). */
export function approvalLinkKeyFile(dataDir: string): Buffer {
  const file = join(dataDir, APPROVAL_LINK_KEY_FILE);
  // Read before anything else is made in DATA_DIR (the redactor needs the key), so it may not exist yet.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // The mode is the key's only protection on disk: put it back if someone widened it.
  chmodSync(file, 0o600);
  const text = readFileSync(file, 'utf8').trim();
  if (!KEY_TEXT.test(text)) throw new Error(`${file} does not hold an approval link key (64 hex digits); remove it to have a new one made.`);
  return Buffer.from(text, 'hex');
}

export function approvalLinkKey(config: Pick<Config, 'APPROVAL_LINK_SECRET' | 'dataDir'>): Buffer {
  if (!config.APPROVAL_LINK_SECRET) return approvalLinkKeyFile(config.dataDir);
  const key = Buffer.from(config.APPROVAL_LINK_SECRET, 'utf8');
  if (key.length < MIN_KEY_BYTES) {
    throw new ConfigError(`Invalid configuration: APPROVAL_LINK_SECRET=(value hidden): must be at least ${MIN_KEY_BYTES} characters`);
  }
  return key;
}

/**
 * The key as it could surface in text (the key file's 64 hex digits), for the redactor:
 * APPROVAL_LINK_SECRET is in `config.secrets` already, the key file's key is not.
 */
export function approvalLinkKeySecrets(key: Buffer): string[] {
  return [key.toString('hex')];
}

/** The issuer (needed before the pipeline: approval requests carry its links) and, once builds exist, the redeemer. */
export function createApprovalLinks(config: Config, db: Db, key: Buffer = approvalLinkKey(config)) {
  return {
    issuer: new HmacApprovalLinkIssuer({ key, publicUrl: config.publicUrl, ttlSeconds: config.APPROVAL_LINK_TTL }) as ApprovalLinkIssuer,
    redeemer: (builds: BuildService): ApprovalLinkRedeemer => new SignedApprovalLinkRedeemer({ key, builds, ledger: new SqliteApprovalLinkLedger(db) }),
  };
}
