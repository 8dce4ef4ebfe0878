/**
 * The long-lived sandbox a locally deployed droplet runs in: bubblewrap with the host
 * read-only and the same masks as verification (the executor's data dir, HOME, `.env`,
 * host keys), but with the network shared, since the droplet must serve. The only things
 * of the data dir it sees are its own release (read-only), its `shared/` directory
 * (read-write) and the dependency store its release's node_modules link points into
 * (read-only). HOME is an empty private tmpfs, /tmp is private, /proc shows only the
 * sandbox's own processes.
 *
 * The argv is written into supervisor.json once and reused by every start, so the release
 * is usually the `{release}` placeholder the supervisor substitutes per start: any path
 * holding a placeholder is passed through untouched (it cannot be resolved or stat'ed here).
 */
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';
import { isolationArgs, maskablePaths, maskArgs, real, toolBinds } from './bubblewrap.js';

/** The droplet's HOME inside the sandbox: an empty tmpfs, gone when the droplet stops. */
export const DROPLET_HOME = '/home/droplet';

/**
 * Run before bwrap: `sh` makes bwrap itself ignore SIGTERM and SIGINT (an ignored signal
 * stays ignored across exec; node resets its own dispositions at start). Without it a
 * group SIGTERM kills bwrap at once, and --die-with-parent then SIGKILLs the droplet
 * before it can finish its in-flight work; with it the droplet gets the SIGTERM, exits
 * in its own time and bwrap exits with it. The supervisor's SIGKILL after its grace still
 * ends them all.
 */
export const STOP_SIGNAL_SHIM: readonly string[] = ['/bin/sh', '-c', 'trap "" TERM INT; exec "$0" "$@"'];

export interface ServiceSandboxPlan {
  /** Path of the bwrap binary. Default /usr/bin/bwrap. */
  bwrapPath?: string;
  /** Never visible to the droplet: `executorSecretPaths({ dataDir, homeDir, cwd })`. */
  hiddenPaths: readonly string[];
  /** The release directory (usually `{release}`): bound read-only at its own path, and the working directory. */
  release: string;
  /** The droplet's `shared/` directory (a path or a template): the only writable place of the host it sees. */
  shared: string;
  /** Bound read-only over the masks: the dependency store (DATA_DIR/dependencies) release links point into. */
  readOnly?: readonly string[];
  /** The node binary the droplet runs: its installation is bound back when a mask covers it. Default: the executor's. */
  nodePath?: string;
}

/** Whether `path` holds a placeholder such as `{release}` that the supervisor substitutes later. */
export const isTemplate = (path: string): boolean => /\{[A-Za-z_]+\}/.test(path);

/** A concrete path resolved as bwrap binds it; a template kept as it is. */
const bindable = (path: string): string => (isTemplate(path) ? path : real(path));

/**
 * The argv prefix that runs a droplet in its sandbox: the stop-signal shim, bwrap and its
 * arguments, ending with `--`. The caller appends node and the entry point. Order
 * matters (later mounts cover earlier ones): the read-only host, the masks, node's
 * installation if masked, the private HOME, then the binds back into masked places.
 */
export function serviceSandboxArgv(plan: ServiceSandboxPlan): string[] {
  const release = bindable(plan.release);
  const shared = bindable(plan.shared);
  const readOnly = (plan.readOnly ?? []).map(bindable);
  // What a droplet's sandbox needs of the host: user, pid and the other namespaces, no nested ones, a HOME under /home.
  const args = ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'];

  // /run stays, as for verification's networked commands: resolv.conf may point into it.
  // HOME's parent (/home, every user's home) is covered so the private HOME can be made there.
  const hidden = maskablePaths([...plan.hiddenPaths, dirname(DROPLET_HOME)]);
  const bound = [release, shared, ...readOnly].filter((path) => !isTemplate(path));
  const { args: masks, masked } = maskArgs(hidden, bound);
  args.push(...masks, ...toolBinds([dirname(dirname(real(plan.nodePath ?? process.execPath)))], masked));
  args.push('--tmpfs', DROPLET_HOME);

  // -try: a store that does not exist yet (no release has dependencies) is no reason to fail.
  for (const path of readOnly) args.push('--ro-bind-try', path, path);
  // The release is the executor's record of what was verified: nothing the droplet runs may change it.
  args.push('--ro-bind', release, release);
  args.push('--bind', shared, shared);

  args.push(...isolationArgs(true, 'droplet'), '--chdir', release);
  return [...STOP_SIGNAL_SHIM, plan.bwrapPath ?? '/usr/bin/bwrap', ...args, '--'];
}

/**
 * Whether bwrap runs a droplet sandbox as `runner` here: null when it does, else why not.
 * Verification's probe runs bwrap as the executor (root); as another user bwrap needs
 * unprivileged user namespaces, which a host may switch off (sysctl, AppArmor).
 */
export function probeServiceSandbox(runner: { uid: number; gid: number }, bwrapPath = '/usr/bin/bwrap'): Promise<string | null> {
  // What a droplet's sandbox needs of the host: user, pid and the other namespaces, no nested ones, a HOME under /home.
  const args = ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', dirname(DROPLET_HOME), '--tmpfs', DROPLET_HOME, ...isolationArgs(true, 'droplet'), '--', '/bin/true'];
  return new Promise((resolve) => {
    execFile(bwrapPath, args, { uid: runner.uid, gid: runner.gid, env: { PATH: '/usr/bin:/bin' }, cwd: '/', timeout: 10_000 }, (error, _stdout, stderr) => {
      resolve(error ? stderr.trim() || error.message : null);
    });
  });
}
