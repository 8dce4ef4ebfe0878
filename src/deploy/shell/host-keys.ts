/**
 * Whether an SSH host is the one we mean: its key is pinned by a fingerprint
 * (`SSH_HOST_FINGERPRINT`) or by a known_hosts file (`SSH_KNOWN_HOSTS`), or, with
 * accept-new, recorded on first use and pinned from then on. The parsing and the
 * judgement are pure; only `loadKnownHosts` and `recordKnownHost` touch the file.
 * `SshShell` asks this from ssh2's `hostVerifier`, which runs during key exchange, so a
 * refused host never sees a credential.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ShellError } from './types.js';

export interface HostKeyPolicy {
  /** `SHA256:<base64 without padding>` of the host key, as `ssh-keygen -lf` prints it. */
  fingerprint?: string;
  /** An OpenSSH known_hosts file; its entries for the host pin the host's key. */
  knownHostsFile?: string;
  /** A host with no pin at all is trusted once and its key appended to `knownHostsFile`. */
  acceptNew?: boolean;
}

export interface KnownHostEntry {
  /** `@revoked` / `@cert-authority` lines; certificates are not used, revoked keys are refused. */
  marker: 'revoked' | 'cert-authority' | null;
  /** The host field as written: comma-separated patterns, or one hashed `|1|salt|hash` name. */
  hosts: string;
  keyType: string;
  /** The raw public key blob (what the server sends in the key exchange). */
  key: Buffer;
  line: number;
}

export type HostKeyCheck =
  | { verdict: 'trusted'; by: 'fingerprint' | 'known_hosts' }
  | { verdict: 'mismatch'; reason: string }
  | { verdict: 'unknown' };

const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** The key type written inside a key blob (its first SSH string), or null if unreadable. */
export function keyBlobType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return null;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:` + unpadded base64 of sha256 over the key blob: `ssh-keygen -lf`'s form. */
export function hostKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** How known_hosts names a host: `host` on port 22, `[host]:port` otherwise (lower case). */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** The line accept-new appends for a host it trusted on first use. */
export function knownHostsLine(host: string, port: number, blob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyBlobType(blob) ?? 'unknown'} ${blob.toString('base64')}`;
}

function parseEntry(text: string, line: number): KnownHostEntry | null {
  const fields = text.split(/\s+/);
  let marker: KnownHostEntry['marker'] = null;
  if (fields[0]?.startsWith('@')) {
    const name = fields.shift();
    if (name === '@revoked') marker = 'revoked';
    else if (name === '@cert-authority') marker = 'cert-authority';
    else return null;
  }
  const [hosts, keyType, encoded] = fields;
  if (!hosts || !keyType || !encoded || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  // A blob whose own type disagrees with the line's is malformed: skipped, as ssh does.
  if (keyBlobType(key) !== keyType) return null;
  return { marker, hosts, keyType, key, line };
}

/** Every well-formed entry of a known_hosts text; comments, blank and malformed lines are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const entry = parseEntry(trimmed, index + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

function hashedNameMatches(field: string, name: string): boolean {
  const [, salt, hash] = field.split('|').slice(1);
  if (!salt || !hash) return false;
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.+()|{}[\]]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(name);
}

/**
 * Whether a host field names `name` (from `knownHostsName`): a hashed `|1|salt|hash`
 * (HMAC-SHA1 of the name keyed by the salt), or patterns with `*`, `?` and `!negation`.
 */
export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedNameMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatches(pattern.slice(1), name)) return false;
    } else if (pattern !== '' && globMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function sameFingerprint(pinned: string, blob: Buffer): boolean {
  return pinned.replace(/=+$/, '') === hostKeyFingerprint(blob);
}

/**
 * The judgement on a presented key. Every configured pin must agree: a fingerprint that
 * differs, a host known under other keys only, or a revoked key is a mismatch.
 */
export function checkHostKey(
  pins: { fingerprint?: string; entries: readonly KnownHostEntry[] },
  name: string,
  blob: Buffer,
): HostKeyCheck {
  const presented = hostKeyFingerprint(blob);
  // A revoked key is refused whatever host line revoked it (stricter than ssh, on purpose).
  if (pins.entries.some((entry) => entry.marker === 'revoked' && entry.key.equals(blob))) {
    return { verdict: 'mismatch', reason: `host key ${presented} is marked @revoked in known_hosts` };
  }
  if (pins.fingerprint !== undefined && !sameFingerprint(pins.fingerprint, blob)) {
    return { verdict: 'mismatch', reason: `host key ${presented} is not the pinned ${pins.fingerprint}` };
  }
  const known = pins.entries.filter((entry) => entry.marker === null && hostMatches(entry.hosts, name));
  if (known.length > 0 && !known.some((entry) => entry.key.equals(blob))) {
    const lines = known.map((entry) => entry.line).join(', ');
    return { verdict: 'mismatch', reason: `host key ${presented} differs from known_hosts (line ${lines})` };
  }
  if (known.length > 0) return { verdict: 'trusted', by: 'known_hosts' };
  return pins.fingerprint !== undefined ? { verdict: 'trusted', by: 'fingerprint' } : { verdict: 'unknown' };
}

/** ssh2's default order (ssh-ed25519 first, as on Node 20), which a known key type is moved ahead of. */
const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

function algorithmsFor(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return DEFAULT_HOST_KEY_ALGORITHMS.includes(keyType) ? [keyType] : [];
}

/**
 * The host key algorithms to offer, those of the host's known keys first (as ssh does),
 * so a host holding several keys presents the pinned one; undefined: ssh2's default.
 */
export function preferredHostKeyAlgorithms(entries: readonly KnownHostEntry[], name: string): string[] | undefined {
  const known = entries
    .filter((entry) => entry.marker === null && hostMatches(entry.hosts, name))
    .flatMap((entry) => algorithmsFor(entry.keyType));
  if (known.length === 0) return undefined;
  return [...new Set([...known, ...DEFAULT_HOST_KEY_ALGORITHMS])];
}

/** A policy that cannot work is a configuration error, found before any connection. */
export function assertHostKeyPolicy(policy: HostKeyPolicy): void {
  if (policy.fingerprint !== undefined && !FINGERPRINT_PATTERN.test(policy.fingerprint)) {
    throw new Error('A host key fingerprint must read SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints it.');
  }
  if (policy.acceptNew && !policy.knownHostsFile) {
    throw new Error('Accepting a new host key needs a known_hosts file to record it in.');
  }
}

/** The file's entries; a file that does not exist yet has none. */
export function loadKnownHosts(file: string | undefined): KnownHostEntry[] {
  if (file === undefined) return [];
  try {
    return parseKnownHosts(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Appends the host's line (the file is created 0600, on its own line even after an unterminated one). */
export function recordKnownHost(file: string, host: string, port: number, blob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let existing = '';
  try {
    existing = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  appendFileSync(file, `${separator}${knownHostsLine(host, port, blob)}\n`, { mode: 0o600 });
}

export type HostKeyDecision = { accepted: true; recorded: boolean } | { accepted: false; error: ShellError };

/** The whole policy for one presented key; with accept-new, records an unknown host's key. */
export function decideHostKey(
  policy: HostKeyPolicy,
  entries: readonly KnownHostEntry[],
  target: { host: string; port: number; label: string },
  blob: Buffer,
): HostKeyDecision {
  const check = checkHostKey({ fingerprint: policy.fingerprint, entries }, knownHostsName(target.host, target.port), blob);
  if (check.verdict === 'trusted') return { accepted: true, recorded: false };
  if (check.verdict === 'mismatch') {
    return { accepted: false, error: new ShellError(`${target.label}: ${check.reason}; refused before authentication.`, 'HOST_KEY_MISMATCH') };
  }
  const presented = hostKeyFingerprint(blob);
  if (!policy.acceptNew || !policy.knownHostsFile) {
    const message = `${target.label}: host key ${presented} is not pinned (set SSH_KNOWN_HOSTS or SSH_HOST_FINGERPRINT, or SSH_ACCEPT_NEW_HOST_KEY=true).`;
    return { accepted: false, error: new ShellError(message, 'HOST_KEY_UNKNOWN') };
  }
  try {
    recordKnownHost(policy.knownHostsFile, target.host, target.port, blob);
  } catch (cause) {
    const message = `${target.label}: could not record host key ${presented} in ${policy.knownHostsFile}: ${(cause as Error).message}`;
    return { accepted: false, error: new ShellError(message, 'HOST_KEY_UNKNOWN', { cause }) };
  }
  return { accepted: true, recorded: true };
}
