/**
 * Where a droplet's repository is published (GIT_REMOTE_URL_TEMPLATE with `{droplet}`),
 * and how a GitHub token reaches git: pure rules, no I/O.
 *
 * The token never goes in argv or a URL. It travels in git's environment as URL-scoped
 * config (`http.<origin>/.extraHeader`, via GIT_CONFIG_COUNT/KEY/VALUE), and only to the
 * GitHub web origin that belongs to GITHUB_API_URL: where the API calls already send it.
 * A template pointing at another host never receives it.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type PublishRemote =
  /** A local bare repository, created when missing. `url` is its file URL, `target` the path git pushes to. */
  | { kind: 'path'; url: string; target: string }
  /** `https://` or `http://`: `target` is the URL itself (never with credentials in it). */
  | { kind: 'http'; url: string; target: string; origin: string }
  /** `ssh://…` or scp-like `git@host:org/name.git`: the machine's ssh config and agent apply. */
  | { kind: 'ssh'; url: string; target: string };

/** A template that cannot name a remote; thrown when the publisher is made (at start-up). */
export class RemoteTemplateError extends Error {
  constructor(message: string) {
    super(`GIT_REMOTE_URL_TEMPLATE ${message}`);
    this.name = 'RemoteTemplateError';
  }
}

/** `host:path` with no scheme and no slash before the colon: git's scp-like ssh syntax. */
const SCP_LIKE = /^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!\/\/)[^\s]+$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

function remoteFromUrl(rendered: string): PublishRemote {
  let url: URL;
  try {
    url = new URL(rendered);
  } catch {
    throw new RemoteTemplateError(`renders "${rendered}", which is not a valid URL`);
  }
  // A token in the URL would be in every git message and process listing (ssh's `git@` is a user name, not a credential).
  const ssh = url.protocol === 'ssh:' || url.protocol === 'git+ssh:';
  if (url.password || (url.username && !ssh)) throw new RemoteTemplateError('must not hold credentials (GITHUB_TOKEN is sent in a header instead)');
  if (url.search || url.hash) throw new RemoteTemplateError('must not have a query or a fragment');
  if (url.protocol === 'file:') {
    const target = fileURLToPath(url);
    return { kind: 'path', url: pathToFileURL(target).href, target };
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') return { kind: 'http', url: url.href, target: url.href, origin: url.origin };
  if (ssh) return { kind: 'ssh', url: rendered, target: rendered };
  throw new RemoteTemplateError(`uses ${url.protocol.replace(/:$/, '')}://; only a path, file://, https://, http:// and ssh remotes are supported`);
}

/** The remote for one droplet: `{droplet}` replaced by its (kebab-case, so path- and URL-safe) name. */
export function renderRemote(template: string, dropletName: string): PublishRemote {
  if (!template.includes('{droplet}')) throw new RemoteTemplateError('must contain {droplet}');
  const rendered = template.trim().replaceAll('{droplet}', dropletName);
  if (SCHEME.test(rendered)) return remoteFromUrl(rendered);
  if (path.isAbsolute(rendered)) {
    const target = path.normalize(rendered);
    return { kind: 'path', url: pathToFileURL(target).href, target };
  }
  if (SCP_LIKE.test(rendered) && !rendered.includes('::')) return { kind: 'ssh', url: rendered, target: rendered };
  throw new RemoteTemplateError(`renders "${rendered}": use an absolute path, a file://, https:// or ssh:// URL, or git@host:org/{droplet}.git`);
}

/** Checks a template once (with a sample name), so a bad one stops the executor at start-up. */
export function checkRemoteTemplate(template: string): void {
  renderRemote(template, 'droplet');
}

export const GITHUB_API_DEFAULT = 'https://api.github.com';

/**
 * The web origin (where clones and pushes go) of a GitHub API: api.github.com →
 * https://github.com; GitHub Enterprise Server `https://ghe.example.com/api/v3` →
 * https://ghe.example.com; an `api.` host (GHE.com) → the same host without `api.`.
 */
export function githubWebOrigin(apiUrl: string = GITHUB_API_DEFAULT): string {
  const url = new URL(apiUrl);
  const host = url.host.startsWith('api.') ? url.host.slice('api.'.length) : url.host;
  return `${url.protocol}//${host}`;
}

/** The remote template when only GITHUB_OWNER is set: the owner's repositories on that GitHub. */
export function githubRemoteTemplate(owner: string, apiUrl?: string): string {
  return `${githubWebOrigin(apiUrl)}/${encodeURIComponent(owner)}/{droplet}.git`;
}

/** What git sends: `Authorization: Basic base64(x-access-token:TOKEN)`, as GitHub documents for tokens over https. */
export function authorizationHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/**
 * The environment that hands the token to git for this remote: a URL-scoped
 * `http.extraHeader`, and nothing at all for a remote outside the token's origin.
 */
export function credentialEnvironment(remote: PublishRemote, token: { value: string; origin: string } | null): Record<string, string> {
  if (!token || remote.kind !== 'http' || remote.origin !== new URL(token.origin).origin) return {};
  return {
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${remote.origin}/.extraHeader`,
    GIT_CONFIG_VALUE_0: authorizationHeader(token.value),
  };
}

/** What ssh needs from the executor's own environment (its agent), and never a prompt. */
export function sshEnvironment(remote: PublishRemote, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (remote.kind !== 'ssh') return {};
  return {
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes',
    ...(env.SSH_AUTH_SOCK ? { SSH_AUTH_SOCK: env.SSH_AUTH_SOCK } : {}),
  };
}

/**
 * A branch name a remote (GitHub's `default_branch`, a server's advertised HEAD) may
 * name for the push to move: plain characters, and nothing git would read as more than
 * one ref name (`..`, `//`, a leading `-`, `.` or `/`, a trailing `/`, `.` or `.lock`).
 */
export function isBranchName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/.test(name) && !/\.\.|\/\/|\/\.|\/$|\.$|\.lock$/.test(name);
}

/** ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and two-character escapes). */
// eslint-disable-next-line no-control-regex -- matching escape sequences is the point: they are removed
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;
// eslint-disable-next-line no-control-regex -- C0 and C1 controls and DEL are removed
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Text a remote wrote (git's `remote:` lines, GitHub's messages) as it may reach events,
 * step details and logs: escape sequences and control characters removed (line breaks
 * and tabs become spaces, so it stays one line), runs of spaces collapsed, at most `max`
 * characters.
 */
export function printable(text: string, max: number): string {
  return text
    .replace(ANSI, '')
    .replace(/[\r\n\t]/g, ' ')
    .replace(CONTROL, '')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, max);
}
