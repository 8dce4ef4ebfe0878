/**
 * The isolating sandbox: every command runs under bubblewrap with the host read-only,
 * its own network (empty but for loopback) unless it is an install, its own pid, ipc,
 * uts and cgroup namespaces, no capabilities, a private /tmp, and the executor's secrets
 * masked. Writable: the droplet's workspace (not its `.git`) and an empty HOME of the
 * command's own.
 *
 * Masking, not permissions, is what protects secrets here. The executor runs as root;
 * bwrap maps root to root in its user namespace, and a root-owned 0600 file is readable
 * by owner match alone, with every capability dropped. So whatever must stay unread is
 * covered: directories by an empty tmpfs, files by /dev/null.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { LoopbackBridge } from './loopback-bridge.js';
import { ProcessSandbox, type ProcessSandboxOptions, type WrapContext, type WrappedCommand } from './process-sandbox.js';
import type { Sandbox } from './types.js';

/**
 * Host secrets hidden from every command unless the caller names its own list. Commands
 * run as root, which owns these, so anything not listed stays readable: the list covers
 * credentials, their backups and the state and logs daemons keep.
 */
export const DEFAULT_HIDDEN_PATHS: readonly string[] = [
  '/root',
  '/home',
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/security/opasswd',
  '/etc/ssh',
  '/etc/ssl/private',
  '/etc/letsencrypt',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/var/backups',
  '/var/cache/debconf',
  '/var/lib',
  '/var/log',
  '/var/mail',
  '/var/spool',
];

/**
 * Hidden from commands without network: sockets of host daemons live there (a unix
 * socket crosses a network namespace). Installs keep it: resolv.conf may point into it.
 */
const HIDDEN_WITHOUT_NETWORK = ['/run'];

export interface BubblewrapOptions extends ProcessSandboxOptions {
  /** Path of the bwrap binary. Default /usr/bin/bwrap. */
  bwrapPath?: string;
  /**
   * Never visible to a command: the executor's data dir (the workspace and sandbox HOME
   * are bound back on top), its HOME, its `.env`, host keys. Default DEFAULT_HIDDEN_PATHS;
   * the composition root adds DATA_DIR, HOME and cwd/.env.
   */
  hiddenPaths?: readonly string[];
  /** node inside the sandbox, for the port bridge. Default: the executor's own node. */
  nodePath?: string;
}

/** What one bwrap invocation mounts, resolved against the host. */
export interface BubblewrapPlan {
  cwd: string;
  network: boolean;
  /** The command's HOME: an empty tmpfs of its own there, nothing from the host's directory. */
  homeDir: string;
  npmCacheDir: string;
  hiddenPaths: readonly string[];
  /** Extra directories bound read-write (the port bridge's socket directory). */
  extraWritable?: readonly string[];
  /** Bound back read-only when a mask covers them (node installed under a hidden HOME). */
  tools?: readonly string[];
  /** A dependency store entry, bound read-only over `<cwd>/node_modules`. */
  dependencies?: string;
}

/** The real path when it exists (bwrap binds real paths), else the path made absolute. */
export function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** A real directory or file (not a link, which bwrap would follow) at `path`. */
function isDirectoryOrFile(path: string): boolean {
  try {
    const stats = lstatSync(path);
    return stats.isDirectory() || stats.isFile();
  } catch {
    return false;
  }
}

export const isInside = (path: string, dir: string) => dir === '/' || path === dir || path.startsWith(`${dir}${sep}`);

/** Mount arguments that cover `path`: an empty tmpfs for a directory, /dev/null for a file. */
function mask(path: string): string[] {
  let directory: boolean;
  try {
    directory = statSync(path).isDirectory();
  } catch {
    return []; // nothing there, nothing to hide
  }
  return directory ? ['--tmpfs', path] : ['--ro-bind', '/dev/null', path];
}

/** The real paths of `paths` that may be masked: never /, nor what /proc and /dev mount fresh. */
export function maskablePaths(paths: readonly string[]): string[] {
  return paths.map(real).filter((path) => path !== '/' && !isInside(path, '/proc') && !isInside(path, '/dev'));
}

/**
 * Masks for each of `hidden` (real paths) once, except the paths in `uncovered`: covering
 * a path that holds a bound directory is fine (it is bound back on top), covering the
 * bound directory itself is not. Returns the arguments and the paths they cover.
 */
export function maskArgs(hidden: readonly string[], uncovered: readonly string[]): { args: string[]; masked: Set<string> } {
  const args: string[] = [];
  const masked = new Set<string>();
  for (const path of hidden) {
    if (masked.has(path) || uncovered.includes(path)) continue;
    masked.add(path);
    args.push(...mask(path));
  }
  return { args, masked };
}

/** Tools (node's installation) bound back read-only when a mask covers them. */
export function toolBinds(tools: readonly string[], masked: ReadonlySet<string>): string[] {
  return tools.map(real).flatMap((tool) => ([...masked].some((path) => isInside(tool, path)) ? ['--ro-bind', tool, tool] : []));
}

/** The namespaces and privileges of a sandboxed command: everything unshared but, with `network`, the network. */
export function isolationArgs(network: boolean, hostname: string): string[] {
  return [
    '--unshare-all',
    ...(network ? ['--share-net'] : []),
    // No nested user namespaces: inside one, root regains capabilities over new mounts
    // and netfilter, the usual first step of a kernel exploit.
    '--unshare-user',
    '--disable-userns',
    '--assert-userns-disabled',
    '--die-with-parent',
    // No --new-session: the command is spawned detached, so it already leads a session
    // with no controlling terminal (nothing to push keystrokes into with TIOCSTI), and
    // staying in bwrap's process group keeps it in reach of the group kill on timeout.
    '--cap-drop',
    'ALL',
    '--hostname',
    hostname,
  ];
}

/**
 * bwrap's arguments, up to (not including) the command. Order matters: later mounts
 * cover earlier ones, so masks come after the read-only host, the private HOME and the
 * writable binds (workspace, npm cache) come after the masks that may contain them, and
 * the workspace's `.git` is bound read-only over the writable workspace.
 */
export function bubblewrapArgs(plan: BubblewrapPlan): string[] {
  const cwd = real(plan.cwd);
  const home = real(plan.homeDir);
  const npmCache = real(plan.npmCacheDir);
  const args = ['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'];

  const hidden = maskablePaths([...plan.hiddenPaths, ...(plan.network ? [] : HIDDEN_WITHOUT_NETWORK)]);
  // The npm cache is writable for installs only; other commands get an empty one.
  if (!plan.network) hidden.push(npmCache);
  const { args: masks, masked } = maskArgs(hidden, [cwd]);
  args.push(...masks, ...toolBinds(plan.tools ?? [], masked));
  // HOME is private to each command and starts empty: a shared one would carry what one
  // build's code leaves there (an .npmrc whose node-options --require a script) into every
  // later build's install and tests, where that build's workspace is writable.
  args.push('--tmpfs', home);
  const writable = [...(plan.network ? [npmCache] : []), cwd, ...(plan.extraWritable ?? []).map(real)];
  for (const path of writable) args.push('--bind', path, path);
  // The workspace's git directory is the executor's record, not the droplet's: read-only,
  // so generated code cannot rewrite history or plant hooks and config for the next git.
  const gitDir = join(cwd, '.git');
  if (isDirectoryOrFile(gitDir)) args.push('--ro-bind', gitDir, gitDir);
  // Installed once, shared by every build with the same lockfile: nothing the droplet runs may change it.
  if (plan.dependencies) args.push('--ro-bind', real(plan.dependencies), join(cwd, 'node_modules'));

  args.push(...isolationArgs(plan.network, 'sandbox'), '--chdir', cwd);
  return args;
}

export class BubblewrapSandbox extends ProcessSandbox {
  override readonly kind: Sandbox['kind'] = 'bubblewrap';
  private readonly bwrapPath: string;
  private readonly hiddenPaths: readonly string[];
  private readonly nodePath: string;

  constructor(protected override readonly options: BubblewrapOptions) {
    super(options);
    this.bwrapPath = options.bwrapPath ?? '/usr/bin/bwrap';
    this.hiddenPaths = options.hiddenPaths ?? DEFAULT_HIDDEN_PATHS;
    this.nodePath = options.nodePath ?? process.execPath;
  }

  /** Every run gets an empty tmpfs mounted at `homeDir`: private, and gone when the run ends. */
  protected override privateHome(): { path: string; release: () => void } {
    return { path: this.options.homeDir, release: () => {} };
  }

  /** bwrap binds the entry over `<cwd>/node_modules`: that must be an empty directory. */
  protected override placeDependencies(cwd: string, _dependencies: string): void {
    const mountPoint = join(cwd, 'node_modules');
    let current: Stats | null;
    try {
      current = lstatSync(mountPoint);
    } catch {
      current = null;
    }
    if (current && !(current.isDirectory() && readdirSync(mountPoint).length === 0)) rmSync(mountPoint, { recursive: true, force: true });
    mkdirSync(mountPoint, { recursive: true });
  }

  protected override wrap(command: string, args: readonly string[], context: WrapContext): WrappedCommand {
    const plan = {
      ...(context.dependencies ? { dependencies: context.dependencies } : {}),
      cwd: context.cwd,
      network: context.network,
      homeDir: this.options.homeDir,
      npmCacheDir: this.options.npmCacheDir,
      hiddenPaths: this.hiddenPaths,
      // node's installation (bin/node, lib/node_modules/npm), in case it lives under a hidden HOME.
      tools: [dirname(dirname(real(this.nodePath)))],
    };
    if (context.exposePort === undefined) {
      return { file: this.bwrapPath, args: [...bubblewrapArgs(plan), '--', command, ...args] };
    }
    const bridge = new LoopbackBridge();
    const inside = bridge.launch(this.nodePath, context.exposePort, command, args);
    return {
      file: this.bwrapPath,
      args: [...bubblewrapArgs({ ...plan, extraWritable: [bridge.directory] }), '--', inside.file, ...inside.args],
      exposedPort: bridge.hostPort,
      release: () => bridge.close(),
    };
  }
}

/** The executor's own secrets, for `hiddenPaths`: data dir, HOME and the `.env` of its working directory. */
export function executorSecretPaths(options: { dataDir: string; homeDir: string; cwd: string }): string[] {
  const paths = [...DEFAULT_HIDDEN_PATHS, options.dataDir, options.homeDir];
  const dotEnv = join(options.cwd, '.env');
  if (existsSync(dotEnv)) paths.push(dotEnv);
  return paths;
}
