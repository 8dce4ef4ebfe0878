/**
 * SSH hosts as configured: `DEPLOY_HOSTS` is a comma-separated list of `user@host:port`
 * (port default 22, user default SSH_USER, IPv6 addresses in brackets: `deploy@[::1]:2222`).
 * Pure; a malformed entry is a configuration error naming the entry.
 */
import { isIPv6 } from 'node:net';

export interface SshTarget {
  user: string;
  /** Without brackets, also for IPv6 (what a socket connects to). */
  host: string;
  port: number;
  /** `user@host:port` (`user@[v6]:port`): the host's name in status, registry and locks. */
  label: string;
}

export interface SshTargetDefaults {
  /** SSH_USER: the user of an entry that names none. */
  user?: string;
  /** Default 22. */
  port?: number;
}

/** A POSIX-portable user name (it ends up in `sudo -u`, chown and labels). */
const USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
/** A DNS name or an IPv4 address. */
const HOST_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `user@host:port`, IPv6 in brackets. */
export function sshTargetLabel(user: string, host: string, port: number): string {
  return `${user}@${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

function parsePort(text: string, entry: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new Error(`SSH host "${entry}": the port must be a number from 1 to 65535.`);
  }
  return Number(text);
}

function splitHostPort(rest: string, entry: string): { host: string; portText: string | undefined } {
  if (rest.startsWith('[')) {
    const match = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
    if (!match?.[1] || !isIPv6(match[1])) throw new Error(`SSH host "${entry}": brackets must hold an IPv6 address.`);
    return { host: match[1], portText: match[2] };
  }
  if ((rest.match(/:/g) ?? []).length > 1) {
    throw new Error(`SSH host "${entry}": an IPv6 address goes in brackets, e.g. user@[${rest}]:22.`);
  }
  const [host = '', portText] = rest.split(':');
  if (!HOST_PATTERN.test(host)) throw new Error(`SSH host "${entry}": "${host}" is not a host name or address.`);
  return { host, portText };
}

/** One `user@host:port` entry. */
export function parseSshTarget(entry: string, defaults: SshTargetDefaults = {}): SshTarget {
  const text = entry.trim();
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : defaults.user;
  if (!user) throw new Error(`SSH host "${text}": no user (write user@host, or set SSH_USER).`);
  if (!USER_PATTERN.test(user)) throw new Error(`SSH host "${text}": "${user}" is not a valid user name.`);
  const split = splitHostPort(text.slice(at + 1), text);
  const host = split.host.toLowerCase(); // host names are case-insensitive; one spelling for labels and locks
  const portText = split.portText;
  const port = portText === undefined ? (defaults.port ?? 22) : parsePort(portText, text);
  return { user, host, port, label: sshTargetLabel(user, host, port) };
}

/** A comma-separated list (blank entries ignored); the same host twice is an error. */
export function parseSshTargets(list: string, defaults: SshTargetDefaults = {}): SshTarget[] {
  const targets = list
    .split(',')
    .filter((entry) => entry.trim() !== '')
    .map((entry) => parseSshTarget(entry, defaults));
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.label)) throw new Error(`SSH host "${target.label}" is listed twice.`);
    seen.add(target.label);
  }
  return targets;
}
