/**
 * Host key pinning, pure: fingerprints as `ssh-keygen -lf` prints them, known_hosts
 * parsing (plain, patterns, `[host]:port`, hashed `|1|` entries, markers), and the
 * judgement every SSH connection gets from its hostVerifier. The fixtures below were made
 * with OpenSSH's own ssh-keygen (-t ed25519 / rsa, -lf, -H).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertHostKeyPolicy,
  checkHostKey,
  decideHostKey,
  hostKeyFingerprint,
  hostMatches,
  keyBlobType,
  knownHostsLine,
  knownHostsName,
  loadKnownHosts,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
} from '../../src/deploy/shell/host-keys.js';

const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIJb3E/f5KMSGDwsSqjaCFq5BN8GPQc7/8e9m2Hr4Q9+0';
const KEY_A_FINGERPRINT = 'SHA256:oOpP0XFSwECHL+AuNd7WzLewK+T3RfX/Blkv8dTDmC8';
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIMSIqNJnJlshsPkNW1zZHqrowOZG9cetW1iOV9rPok1r';
const KEY_B_FINGERPRINT = 'SHA256:xG6tCfIY9IabiFXwmwZEwaAb2VWHEh01Ilql/xMvNQs';
const KEY_RSA =
  'AAAAB3NzaC1yc2EAAAADAQABAAABAQCe2UF0o/9qKRdl1mmHrUIMVkm1LoTBXnay0i2AYiYrNuVuQ802I4gp8FHjCfTgnidj4ZTBtF3ZHDhEnxUNhXy9dQa8j99jFfe9E7wilAi8bbp3d2mtQY40sRXZfYbRuUzq7kCfjGWO6SvL1Dil3/iCpy3n1aEevWu8wUEqR7suTnyfaTq6Bsv0KpblN6pdxj46KUzPqoKpE24jHNvB6QAo41M34NveL8uaWe1/T9NUq4jzT2AAMB0hruCb81HSvVxifblN7O7ayAIDRkoZSRqIi3O/O+b49scC4HJN0DX/bij3ZuKID1IuuxRbCIw6oxawaFfH+/aSMonf+jDpM0JD';
const KEY_RSA_FINGERPRINT = 'SHA256:Vhe+frzU2NueaBrXTRZXGqMDJEC48Ll2Qu23hR9NUAk';
/** `ssh-keygen -H` of `[127.0.0.1]:2222 <KEY_A>` and of `example.org <KEY_A>`. */
const HASHED_LOCAL_2222 = `|1|VlxPPBpgbmo5p8rsVdqtOZq7awo=|uDSXq/lAxTCrOA2Zb2GtKKxCC6w= ssh-ed25519 ${KEY_A}`;
const HASHED_EXAMPLE_ORG = `|1|K3j0P+6j6bSMsZQBPjPzxmdfz48=|tNg3oJ656T/5NyreJw0h/oxBwVc= ssh-ed25519 ${KEY_A}`;

const blobA = Buffer.from(KEY_A, 'base64');
const blobB = Buffer.from(KEY_B, 'base64');
const blobRsa = Buffer.from(KEY_RSA, 'base64');

describe('fingerprints and key blobs', () => {
  it('computes the SHA256 fingerprint exactly as ssh-keygen -lf prints it', () => {
    expect(hostKeyFingerprint(blobA)).toBe(KEY_A_FINGERPRINT);
    expect(hostKeyFingerprint(blobB)).toBe(KEY_B_FINGERPRINT);
    expect(hostKeyFingerprint(blobRsa)).toBe(KEY_RSA_FINGERPRINT);
  });

  it('reads the key type inside a blob, and refuses a truncated one', () => {
    expect(keyBlobType(blobA)).toBe('ssh-ed25519');
    expect(keyBlobType(blobRsa)).toBe('ssh-rsa');
    expect(keyBlobType(Buffer.from([0, 0, 0, 40, 1, 2]))).toBeNull();
    expect(keyBlobType(Buffer.alloc(2))).toBeNull();
  });

  it('names hosts as known_hosts does: bare on port 22, [host]:port otherwise, lower case', () => {
    expect(knownHostsName('Example.ORG', 22)).toBe('example.org');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(knownHostsName('::1', 2222)).toBe('[::1]:2222');
    expect(knownHostsName('::1', 22)).toBe('::1');
  });

  it('writes the accept-new line in the same form', () => {
    expect(knownHostsLine('127.0.0.1', 2222, blobA)).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}`);
    expect(knownHostsLine('deploy.example.org', 22, blobRsa)).toBe(`deploy.example.org ssh-rsa ${KEY_RSA}`);
  });
});

describe('parseKnownHosts', () => {
  it('reads plain, comma-listed, bracketed, hashed and marked lines with their key types, and skips the rest', () => {
    const text = [
      '# a comment',
      '',
      `example.org,192.0.2.7 ssh-ed25519 ${KEY_A} comment words`,
      `[127.0.0.1]:2222 ssh-rsa ${KEY_RSA}`,
      HASHED_EXAMPLE_ORG,
      `@revoked * ssh-ed25519 ${KEY_B}`,
      `@cert-authority *.example.org ssh-ed25519 ${KEY_B}`,
      `@unknown-marker host ssh-ed25519 ${KEY_B}`,
      `mismatched ssh-rsa ${KEY_A}`,
      'short-line ssh-ed25519',
      `bad-base64 ssh-ed25519 ***`,
    ].join('\r\n');
    const entries = parseKnownHosts(text);
    expect(entries.map(({ marker, hosts, keyType, line }) => ({ marker, hosts, keyType, line }))).toEqual([
      { marker: null, hosts: 'example.org,192.0.2.7', keyType: 'ssh-ed25519', line: 3 },
      { marker: null, hosts: '[127.0.0.1]:2222', keyType: 'ssh-rsa', line: 4 },
      { marker: null, hosts: HASHED_EXAMPLE_ORG.split(' ')[0], keyType: 'ssh-ed25519', line: 5 },
      { marker: 'revoked', hosts: '*', keyType: 'ssh-ed25519', line: 6 },
      { marker: 'cert-authority', hosts: '*.example.org', keyType: 'ssh-ed25519', line: 7 },
    ]);
    expect(entries[0]?.key.equals(blobA)).toBe(true);
  });
});

describe('hostMatches', () => {
  it('matches plain names and comma lists, case-insensitively', () => {
    expect(hostMatches('example.org,192.0.2.7', 'example.org')).toBe(true);
    expect(hostMatches('Example.org', 'example.org')).toBe(true);
    expect(hostMatches('example.org,192.0.2.7', '192.0.2.7')).toBe(true);
    expect(hostMatches('example.org', 'example.com')).toBe(false);
    expect(hostMatches('example.org', 'www.example.org')).toBe(false);
  });

  it('matches [host]:port only with that port', () => {
    expect(hostMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(hostMatches('[127.0.0.1]:2222', '[127.0.0.1]:2223')).toBe(false);
    expect(hostMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
  });

  it('matches wildcards and honours negation', () => {
    expect(hostMatches('*.example.org', 'deploy.example.org')).toBe(true);
    expect(hostMatches('host?.example.org', 'host1.example.org')).toBe(true);
    expect(hostMatches('*.example.org,!bad.example.org', 'bad.example.org')).toBe(false);
    expect(hostMatches('!bad.example.org', 'good.example.org')).toBe(false);
    expect(hostMatches('192.0.2.*', '192.0.2.10')).toBe(true);
    expect(hostMatches('192.0.2.*', '192.0.20.1')).toBe(false);
  });

  it('matches hashed |1|salt|hash entries made by ssh-keygen -H (HMAC-SHA1 of the name)', () => {
    const local = HASHED_LOCAL_2222.split(' ')[0] as string;
    const example = HASHED_EXAMPLE_ORG.split(' ')[0] as string;
    expect(hostMatches(local, '[127.0.0.1]:2222')).toBe(true);
    expect(hostMatches(local, '[127.0.0.1]:2223')).toBe(false);
    expect(hostMatches(local, '127.0.0.1')).toBe(false);
    expect(hostMatches(example, 'example.org')).toBe(true);
    expect(hostMatches(example, 'example.com')).toBe(false);
    expect(hostMatches('|1|broken', 'example.org')).toBe(false);
  });
});

describe('checkHostKey', () => {
  const entries = parseKnownHosts([`[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}`, HASHED_EXAMPLE_ORG].join('\n'));

  it('trusts a key pinned by fingerprint, with or without base64 padding', () => {
    expect(checkHostKey({ fingerprint: KEY_A_FINGERPRINT, entries: [] }, 'any', blobA)).toEqual({ verdict: 'trusted', by: 'fingerprint' });
    expect(checkHostKey({ fingerprint: `${KEY_A_FINGERPRINT}=`, entries: [] }, 'any', blobA)).toEqual({ verdict: 'trusted', by: 'fingerprint' });
  });

  it('refuses a key that is not the pinned fingerprint', () => {
    const check = checkHostKey({ fingerprint: KEY_A_FINGERPRINT, entries: [] }, 'any', blobB);
    expect(check).toEqual({ verdict: 'mismatch', reason: expect.stringContaining(KEY_B_FINGERPRINT) });
  });

  it('trusts a key known for the host (plain and hashed entry)', () => {
    expect(checkHostKey({ entries }, '[127.0.0.1]:2222', blobA)).toEqual({ verdict: 'trusted', by: 'known_hosts' });
    expect(checkHostKey({ entries }, 'example.org', blobA)).toEqual({ verdict: 'trusted', by: 'known_hosts' });
  });

  it('refuses another key for a known host, even of another type', () => {
    expect(checkHostKey({ entries }, '[127.0.0.1]:2222', blobB)).toMatchObject({ verdict: 'mismatch', reason: expect.stringContaining('line 1') });
    expect(checkHostKey({ entries }, 'example.org', blobRsa)).toMatchObject({ verdict: 'mismatch' });
  });

  it('calls a host without any entry unknown', () => {
    expect(checkHostKey({ entries }, '[127.0.0.1]:2223', blobA)).toEqual({ verdict: 'unknown' });
    expect(checkHostKey({ entries: [] }, 'example.org', blobA)).toEqual({ verdict: 'unknown' });
  });

  it('requires every pin to agree: a matching fingerprint does not outvote a differing known_hosts entry', () => {
    expect(checkHostKey({ fingerprint: KEY_B_FINGERPRINT, entries }, '[127.0.0.1]:2222', blobB)).toMatchObject({ verdict: 'mismatch' });
  });

  it('refuses a revoked key whatever else pins it, and ignores @cert-authority lines', () => {
    const marked = parseKnownHosts([`@revoked other.host ssh-ed25519 ${KEY_A}`, `@cert-authority * ssh-ed25519 ${KEY_B}`, `[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}`].join('\n'));
    expect(checkHostKey({ entries: marked }, '[127.0.0.1]:2222', blobA)).toMatchObject({ verdict: 'mismatch', reason: expect.stringContaining('@revoked') });
    expect(checkHostKey({ fingerprint: KEY_A_FINGERPRINT, entries: marked }, 'x', blobA)).toMatchObject({ verdict: 'mismatch' });
    // A certificate authority's key is no pin of a host.
    expect(checkHostKey({ entries: marked }, 'x.example.org', blobB)).toEqual({ verdict: 'unknown' });
  });
});

describe('preferredHostKeyAlgorithms', () => {
  it('offers the known key types first (RSA as its SHA-2 signature algorithms), then the rest', () => {
    const entries = parseKnownHosts(`[h]:2222 ssh-rsa ${KEY_RSA}\nother ssh-ed25519 ${KEY_A}`);
    const algorithms = preferredHostKeyAlgorithms(entries, '[h]:2222');
    expect(algorithms?.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(algorithms).toContain('ssh-ed25519');
    expect(new Set(algorithms).size).toBe(algorithms?.length);
    expect(preferredHostKeyAlgorithms(entries, 'unknown')).toBeUndefined();
  });
});

describe('the policy', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });
  const target = { host: '127.0.0.1', port: 2222, label: 'deploy@127.0.0.1:2222' };

  it('refuses impossible policies before any connection', () => {
    expect(() => assertHostKeyPolicy({ fingerprint: 'MD5:ab:cd' })).toThrow(/SHA256/);
    expect(() => assertHostKeyPolicy({ acceptNew: true })).toThrow(/known_hosts/);
    expect(() => assertHostKeyPolicy({ fingerprint: KEY_A_FINGERPRINT })).not.toThrow();
  });

  it('without a pin refuses the host as HOST_KEY_UNKNOWN, naming its fingerprint', () => {
    const decision = decideHostKey({}, [], target, blobA);
    expect(decision.accepted).toBe(false);
    if (decision.accepted) return;
    expect(decision.error.code).toBe('HOST_KEY_UNKNOWN');
    expect(decision.error.message).toContain(KEY_A_FINGERPRINT);
  });

  it('a mismatch is HOST_KEY_MISMATCH', () => {
    const decision = decideHostKey({ fingerprint: KEY_B_FINGERPRINT }, [], target, blobA);
    expect(decision).toMatchObject({ accepted: false, error: { code: 'HOST_KEY_MISMATCH' } });
  });

  it('accept-new appends the host line to a new 0600 file, which then pins the key', () => {
    dir = mkdtempSync(join(tmpdir(), 'known-hosts-'));
    const file = join(dir, 'sub', 'known_hosts');
    const policy = { knownHostsFile: file, acceptNew: true };
    expect(decideHostKey(policy, loadKnownHosts(file), target, blobA)).toEqual({ accepted: true, recorded: true });
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(decideHostKey(policy, loadKnownHosts(file), target, blobA)).toEqual({ accepted: true, recorded: false });
    expect(decideHostKey(policy, loadKnownHosts(file), target, blobB)).toMatchObject({ accepted: false, error: { code: 'HOST_KEY_MISMATCH' } });
    expect(decideHostKey(policy, loadKnownHosts(file), { host: 'h.example.org', port: 22, label: 'x' }, blobB)).toEqual({ accepted: true, recorded: true });
    expect(readFileSync(file, 'utf8').split('\n')[1]).toBe(`h.example.org ssh-ed25519 ${KEY_B}`);
  });

  it('accept-new starts its line on a line of its own after an unterminated last line', () => {
    dir = mkdtempSync(join(tmpdir(), 'known-hosts-'));
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `other ssh-ed25519 ${KEY_B}`);
    decideHostKey({ knownHostsFile: file, acceptNew: true }, loadKnownHosts(file), target, blobA);
    expect(parseKnownHosts(readFileSync(file, 'utf8'))).toHaveLength(2);
  });

  it('a known_hosts file that does not exist yet holds no entry', () => {
    expect(loadKnownHosts('/nonexistent/known_hosts')).toEqual([]);
    expect(loadKnownHosts(undefined)).toEqual([]);
  });
});
