/**
 * Approval link tokens: signed with a key derived from the secret, verified strictly,
 * expiring, naming the wait they decide; the used-link ledger; the key file; a secret
 * shared with another role refused.
 */
import { createHmac } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApprovalLinkClaims, ApprovalLinkRefusedError } from '../../src/domain/approval-link.js';
import { APPROVAL_LINK_KEY_FILE, approvalLinkKey, approvalLinkKeyFile, approvalLinkKeySecrets } from '../../src/composition/approval-links.js';
import { ConfigError, loadConfig } from '../../src/composition/config.js';
import type { BuildView } from '../../src/domain/status.js';
import { deriveLinkKey, encodeApprovalToken, isExpired, verifyApprovalToken } from '../../src/pipeline/approval-link-token.js';
import { HmacApprovalLinkIssuer, SignedApprovalLinkRedeemer } from '../../src/pipeline/approval-links.js';
import { SqliteApprovalLinkLedger } from '../../src/store/approval-links.js';
import { type Db, openDatabase } from '../../src/store/db.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const BUILD = 'build-13-analytics-engine-20260101-000000';
const claims: ApprovalLinkClaims = {
  buildId: BUILD,
  gate: 'before_deploy',
  decision: 'approve',
  expiresAt: 1_767_229_200,
  requestedAt: '2026-01-01T00:00:00.250Z',
  nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
};

function refusal(run: () => unknown): ApprovalLinkRefusedError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApprovalLinkRefusedError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** Replaces the character at `index` with another one of the base64url alphabet. */
function alter(token: string, index: number): string {
  const replacement = token[index] === 'A' ? 'B' : 'A';
  return `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
}

/** A token signed with KEY over any payload text (to prove the payload is checked after the signature). */
function signedRaw(payload: string): string {
  const segment = Buffer.from(payload, 'utf8').toString('base64url');
  return `${segment}.${createHmac('sha256', KEY).update(segment).digest('base64url')}`;
}

describe('approval link tokens', () => {
  it('round-trips the claims through a token that is only base64url and one dot', () => {
    const token = encodeApprovalToken(claims, KEY);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyApprovalToken(token, KEY)).toEqual(claims);
  });

  it('refuses a token with any single character changed, in the payload or the signature', () => {
    const token = encodeApprovalToken(claims, KEY);
    const dot = token.indexOf('.');
    // Every position: base64url decoding is lenient, and the signature's last character carries unused bits.
    for (let index = 0; index < token.length; index += 1) {
      if (index === dot) continue;
      const error = refusal(() => verifyApprovalToken(alter(token, index), KEY));
      expect(error).toMatchObject({ status: 400, code: 'APPROVAL_LINK_INVALID', reason: 'invalid' });
    }
  });

  it('refuses another key, a truncated or padded token, and garbage', () => {
    const token = encodeApprovalToken(claims, KEY);
    const other = Buffer.from('fedcba9876543210fedcba9876543210');
    for (const [bad, key] of [
      [token, other],
      [token.slice(0, -1), KEY],
      [`${token}=`, KEY],
      [`${token}A`, KEY],
      [token.replace('.', ''), KEY],
      [`${token}.${token.split('.')[1]}`, KEY],
      ['', KEY],
      ['not a token', KEY],
      [`..${'A'.repeat(43)}`, KEY],
      [`${'A'.repeat(5000)}.${'A'.repeat(43)}`, KEY],
    ] as const) {
      expect(refusal(() => verifyApprovalToken(bad, key)).code).toBe('APPROVAL_LINK_INVALID');
    }
  });

  it('refuses a correctly signed payload that is not a link (so the key alone does not make any JSON a claim)', () => {
    const good = { b: BUILD, g: 'before_deploy', d: 'approve', e: 2_000_000_000, w: 1_900_000_000_123, n: 'AAAAAAAAAAAAAAAAAAAAAA' };
    expect(verifyApprovalToken(signedRaw(JSON.stringify(good)), KEY)).toMatchObject({ buildId: BUILD, requestedAt: '2030-03-17T17:46:40.123Z' });
    for (const payload of [
      'not json',
      JSON.stringify({ ...good, d: 'maybe' }),
      JSON.stringify({ ...good, g: 'after_deploy' }),
      JSON.stringify({ ...good, b: '../etc' }),
      JSON.stringify({ ...good, e: '2000000000' }),
      JSON.stringify({ ...good, n: 'short' }),
      JSON.stringify({ ...good, w: 1.5 }),
      JSON.stringify({ ...good, w: '2030-03-17T17:46:40.123Z' }),
      JSON.stringify({ b: good.b, g: good.g, d: good.d, e: good.e, n: good.n }),
      JSON.stringify({ ...good, extra: true }),
      JSON.stringify([good]),
    ]) {
      expect(refusal(() => verifyApprovalToken(signedRaw(payload), KEY)).code).toBe('APPROVAL_LINK_INVALID');
    }
  });

  it('expires at its expiry second, not before', () => {
    expect(isExpired(claims, new Date((claims.expiresAt - 1) * 1000))).toBe(false);
    expect(isExpired(claims, new Date(claims.expiresAt * 1000))).toBe(true);
  });
});

const WAIT = { gate: 'after_spec', requestedAt: '2025-12-31T23:59:58.042Z' } as const;

/** The build as the redeemer reads it: waiting in WAIT. */
const waitingView = { build_id: BUILD, droplet_id: 13, droplet_name: 'analytics-engine', architect_intent: 'Build it', status: 'waiting_approval', pending_approval: { gate: WAIT.gate, step_number: 2, requested_at: WAIT.requestedAt, summary: 'Review.' } } as unknown as BuildView;

describe('HmacApprovalLinkIssuer', () => {
  const path = 'https://executor.example.com/executor/approvals/';
  const tokenOf = (url: string) => {
    expect(url.startsWith(path)).toBe(true);
    return url.slice(path.length);
  };

  it('signs an approve and a reject link for one wait, with their own nonces, expiring after the TTL', () => {
    const now = new Date('2026-01-01T00:00:00.000Z');
    const issuer = new HmacApprovalLinkIssuer({ key: KEY, publicUrl: 'https://executor.example.com/', ttlSeconds: 3600, now: () => now });
    const links = issuer.linksFor(BUILD, WAIT);
    expect(links.expiresAt).toBe('2026-01-01T01:00:00.000Z');
    const approve = verifyApprovalToken(tokenOf(links.approveUrl), deriveLinkKey(KEY));
    const reject = verifyApprovalToken(tokenOf(links.rejectUrl), deriveLinkKey(KEY));
    expect(approve).toMatchObject({ buildId: BUILD, gate: 'after_spec', decision: 'approve', requestedAt: WAIT.requestedAt, expiresAt: 1_767_229_200 });
    expect(reject).toMatchObject({ buildId: BUILD, gate: 'after_spec', decision: 'reject', requestedAt: WAIT.requestedAt });
    expect(approve.nonce).not.toBe(reject.nonce);
    expect(issuer.linksFor(BUILD, WAIT).approveUrl).not.toBe(links.approveUrl);
  });

  it('refuses to sign a link for a wait without a start time', () => {
    const issuer = new HmacApprovalLinkIssuer({ key: KEY, publicUrl: 'http://x', ttlSeconds: 60 });
    expect(() => issuer.linksFor(BUILD, { gate: 'after_spec', requestedAt: 'whenever' })).toThrow(RangeError);
  });

  it('signs with a key derived from the secret under its own label, never with the secret itself', async () => {
    expect(deriveLinkKey(KEY).equals(createHmac('sha256', KEY).update('approval-link/v1').digest())).toBe(true);
    const issuer = new HmacApprovalLinkIssuer({ key: KEY, publicUrl: 'https://executor.example.com', ttlSeconds: 3600 });
    const redeemer = new SignedApprovalLinkRedeemer({
      key: KEY,
      builds: { get: async () => waitingView, approve: async () => waitingView },
      ledger: { isUsed: async () => false, markUsed: async () => true, release: async () => {} },
    });
    const issued = tokenOf(issuer.linksFor(BUILD, WAIT).approveUrl);
    expect(await redeemer.inspect(issued)).toMatchObject({ buildId: BUILD, gate: 'after_spec', requestedAt: WAIT.requestedAt });
    // Whoever holds the secret for another purpose (HMACs with it) has no link key: this is refused.
    const withSecret = encodeApprovalToken({ ...verifyApprovalToken(issued, deriveLinkKey(KEY)), nonce: 'BBBBBBBBBBBBBBBBBBBBBB' }, KEY);
    await expect(redeemer.inspect(withSecret)).rejects.toMatchObject({ code: 'APPROVAL_LINK_INVALID' });
    await expect(redeemer.redeem(withSecret)).rejects.toMatchObject({ code: 'APPROVAL_LINK_INVALID' });
  });

  it('keeps the longest build id within the router limit', () => {
    const longest = `build-${'a'.repeat(120)}`;
    const links = new HmacApprovalLinkIssuer({ key: KEY, publicUrl: 'http://x', ttlSeconds: 60 }).linksFor(longest, { gate: 'before_deploy', requestedAt: new Date().toISOString() });
    expect(links.rejectUrl.length - 'http://x/executor/approvals/'.length).toBeLessThan(512);
  });

  it('refuses a short key', () => {
    expect(() => new HmacApprovalLinkIssuer({ key: Buffer.from('short'), publicUrl: 'http://x', ttlSeconds: 60 })).toThrow(RangeError);
  });
});

describe('APPROVAL_LINK_SECRET', () => {
  const secret = 'one-secret-for-two-roles-0123456789';

  it.each(['NOTIFY_WEBHOOK_SECRET', 'API_TOKEN', 'DROPLET_API_TOKEN', 'REGISTRY_TOKEN'])('is refused when equal to %s (its holders could sign links), without echoing it', (name) => {
    const env = { APPROVAL_LINK_SECRET: secret, [name]: secret, ...(name === 'NOTIFY_WEBHOOK_SECRET' && { NOTIFY_WEBHOOK_URL: 'https://hooks.example/x' }) };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(`APPROVAL_LINK_SECRET=(value hidden): must differ from ${name}`);
    expect(() => loadConfig(env)).not.toThrow(secret);
  });

  it('is taken when it differs from every other secret', () => {
    const env = { APPROVAL_LINK_SECRET: secret, NOTIFY_WEBHOOK_SECRET: `${secret}-webhook`, API_TOKEN: `${secret}-api`, DROPLET_API_TOKEN: `${secret}-droplet`, REGISTRY_TOKEN: `${secret}-registry` };
    expect(loadConfig(env).secrets).toContain(secret);
  });
});

describe('the used-link ledger and the key file', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'approval-links-'));
    db = openDatabase(join(dir, 'executor.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('marks a nonce used once; a release makes it usable again', async () => {
    const ledger = new SqliteApprovalLinkLedger(db);
    const at = new Date('2026-01-01T00:10:00.000Z');
    expect(await ledger.isUsed(claims.nonce)).toBe(false);
    expect(await ledger.markUsed(claims, at)).toBe(true);
    expect(await ledger.isUsed(claims.nonce)).toBe(true);
    expect(await ledger.markUsed({ ...claims, decision: 'reject' }, at)).toBe(false);
    // A second ledger over another connection to the same file sees the same row.
    const other = openDatabase(join(dir, 'executor.db'));
    expect(await new SqliteApprovalLinkLedger(other).markUsed(claims, at)).toBe(false);
    other.close();
    await ledger.release(claims.nonce);
    expect(await ledger.markUsed(claims, at)).toBe(true);
  });

  it('forgets nonces of links expired more than a day ago, keeps the others', async () => {
    const ledger = new SqliteApprovalLinkLedger(db);
    await ledger.markUsed(claims, new Date((claims.expiresAt - 10) * 1000));
    await ledger.markUsed({ ...claims, nonce: 'BBBBBBBBBBBBBBBBBBBBBB' }, new Date((claims.expiresAt + 86_000) * 1000));
    expect(await ledger.isUsed(claims.nonce)).toBe(true);
    await ledger.markUsed({ ...claims, nonce: 'CCCCCCCCCCCCCCCCCCCCCC', expiresAt: claims.expiresAt + 90_000 }, new Date((claims.expiresAt + 86_401) * 1000));
    expect(await ledger.isUsed(claims.nonce)).toBe(false);
    expect(await ledger.isUsed('CCCCCCCCCCCCCCCCCCCCCC')).toBe(true);
  });

  it('makes the key file once, 0600, and reads the same key after a restart', () => {
    const key = approvalLinkKeyFile(dir);
    const file = join(dir, APPROVAL_LINK_KEY_FILE);
    expect(key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(key.toString('hex'));
    // What the redactor is given: the key as the file holds it.
    expect(approvalLinkKeySecrets(key)).toEqual([readFileSync(file, 'utf8').trim()]);
    chmodSync(file, 0o644);
    expect(approvalLinkKeyFile(dir).equals(key)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(approvalLinkKey({ dataDir: dir, APPROVAL_LINK_SECRET: undefined }).equals(key)).toBe(true);
  });

  it('makes DATA_DIR when it does not exist yet (the key is read before anything else is made there)', () => {
    const fresh = join(dir, 'not-yet', 'data');
    expect(existsSync(fresh)).toBe(false);
    const key = approvalLinkKeyFile(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(approvalLinkKeyFile(fresh).equals(key)).toBe(true);
  });

  it('refuses a key file that holds no key, and a short APPROVAL_LINK_SECRET', () => {
    writeFileSync(join(dir, APPROVAL_LINK_KEY_FILE), 'oops\n', { mode: 0o600 });
    expect(() => approvalLinkKeyFile(dir)).toThrow(/does not hold an approval link key/);
    expect(() => approvalLinkKey({ dataDir: dir, APPROVAL_LINK_SECRET: 'short' })).toThrow(ConfigError);
    expect(approvalLinkKey({ dataDir: dir, APPROVAL_LINK_SECRET: 'a long enough secret' }).toString()).toBe('a long enough secret');
  });
});
