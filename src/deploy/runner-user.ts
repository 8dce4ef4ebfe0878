/**
 * The user a locally deployed droplet runs as. An executor running as root creates a
 * dedicated system user for it (no login shell, no home), so droplet code never runs
 * with the executor's privileges; an executor that is not root cannot switch users, so
 * its droplets run as itself (the data dir modes and the sandbox masks still apply).
 */
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';

export interface RunnerUser {
  user: string;
  uid: number;
  gid: number;
}

export const DEFAULT_RUNNER_USER = 'executor-droplet';

/** What useradd accepts everywhere (and never an option: no leading dash). */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** The first that exists is the new user's shell: a login as it is refused. */
const NO_LOGIN_SHELLS = ['/usr/sbin/nologin', '/sbin/nologin', '/bin/false'];
/** getent's exit code for "no such entry". */
const GETENT_NOT_FOUND = 2;
/** useradd's exit code for "user name already in use" (another process made it meanwhile). */
const USERADD_NAME_IN_USE = 9;
const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };

export class RunnerUserError extends Error {}

interface ToolResult {
  code: number | string | null;
  stdout: string;
  stderr: string;
}

function runTool(file: string, args: readonly string[]): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, args, { env: TOOL_ENV, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as NodeJS.ErrnoException & { code?: number | string }).code ?? null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `name:x:uid:gid:…` → the identity, or null when the line is not a passwd entry of `name`. */
function parsePasswdLine(line: string, name: string): RunnerUser | null {
  const [user, , uid, gid] = line.trim().split(':');
  if (user !== name || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) return null;
  return { user, uid: Number(uid), gid: Number(gid) };
}

/** The user's entry through NSS (getent), or /etc/passwd where getent is missing; null when there is none. */
async function lookupUser(name: string): Promise<RunnerUser | null> {
  const result = await runTool('getent', ['passwd', name]);
  if (result.code === 0) return parsePasswdLine(result.stdout, name);
  if (result.code === GETENT_NOT_FOUND) return null;
  if (result.code !== 'ENOENT') throw new RunnerUserError(`Looking up user ${name} failed: ${result.stderr.trim() || String(result.code)}.`);
  const passwd = await readFile('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const entry = parsePasswdLine(line, name);
    if (entry) return entry;
  }
  return null;
}

async function noLoginShell(): Promise<string> {
  for (const shell of NO_LOGIN_SHELLS) {
    if (await access(shell).then(() => true, () => false)) return shell;
  }
  return '/bin/false';
}

/** useradd --system, with a group of its own and /nonexistent as home (not created). */
async function createSystemUser(name: string): Promise<void> {
  const args = ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', await noLoginShell(), '--user-group', name];
  const result = await runTool('useradd', args);
  if (result.code === 0 || result.code === USERADD_NAME_IN_USE) return;
  const reason = result.code === 'ENOENT' ? 'useradd is not installed' : result.stderr.trim() || `useradd exited with ${String(result.code)}`;
  throw new RunnerUserError(`The runner user ${name} does not exist and could not be created: ${reason}.`);
}

/** The executor's own user. */
function ownIdentity(): RunnerUser {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = String(uid); // no passwd entry for this uid (a container with an arbitrary uid)
  }
  return { user, uid, gid };
}

/**
 * The droplet user. As root: `name` (default `executor-droplet`), created as a system user
 * when missing; root itself (uid or gid 0) is refused. Not root: the executor's own
 * identity, since it cannot run a process as anyone else; naming another user is then
 * an error rather than a silent fallback.
 */
export async function ensureRunnerUser(name?: string): Promise<RunnerUser> {
  const wanted = name ?? DEFAULT_RUNNER_USER;
  if (!USER_NAME.test(wanted)) {
    throw new RunnerUserError(`"${wanted}" is not a valid user name for the runner user (lower-case letters, digits, _ and -, starting with a letter or _).`);
  }
  if (process.getuid?.() !== 0) {
    const own = ownIdentity();
    if (name === undefined || wanted === own.user) return own;
    const exists = (await lookupUser(wanted)) !== null;
    throw new RunnerUserError(
      `The runner user ${wanted} ${exists ? 'exists, but' : 'does not exist, and'} the executor runs as ${own.user} (uid ${own.uid}), not root: ` +
        `it can ${exists ? 'not start processes as another user' : 'neither create it nor start processes as another user'}. ` +
        'Run the executor as root, or let droplets run as the executor user.',
    );
  }
  const found = (await lookupUser(wanted)) ?? (await createSystemUser(wanted).then(() => lookupUser(wanted)));
  if (!found) throw new RunnerUserError(`The runner user ${wanted} was created but cannot be found.`);
  if (found.uid === 0 || found.gid === 0) {
    throw new RunnerUserError(`The runner user ${wanted} has uid ${found.uid} and gid ${found.gid}: droplets never run as root or its group.`);
  }
  return found;
}
