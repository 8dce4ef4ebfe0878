/**
 * Runs git in a droplet repository without ever running code from that repository.
 *
 * A generated repository is untrusted. Generated files cannot write `.git/` (paths.ts),
 * but in depth, every invocation also neutralises what a planted `.git/config` could
 * use to run a program:
 *   - hooks: `core.hooksPath=/dev/null` (plus `--no-verify` on commits);
 *   - `core.fsmonitor`, `core.pager`, `core.editor`, `diff.external`: fixed safe values;
 *   - signing: `commit.gpgSign`, `tag.gpgSign`, `tag.forceSignAnnotated`, `log.showSignature` off;
 *   - filter drivers (`filter.<x>.clean/smudge/process`, run by add/commit/status for files
 *     a `.gitattributes` maps to them) and diff drivers (`diff.<x>.textconv/command`): their
 *     names cannot be known in advance, so before each operation the effective config
 *     (with includes) is read (reading config runs nothing) and every driver found is
 *     overridden with an empty command;
 *   - `core.worktree` / a `.git` file pointing elsewhere: `--git-dir` and `--work-tree`
 *     are always explicit, `.git` must be a real directory and may not hold a
 *     `commondir` (which would move the config elsewhere);
 *   - auto gc/maintenance off, so no background git is left running.
 * The environment is built from scratch (PATH and locale only): no system or global
 * config, no prompts, literal pathspecs, a fixed identity, none of the executor's secrets.
 * Not covered: git is not sandboxed itself, so a `.git/config` changed *between* the
 * driver scan and the command (by a process running concurrently) is not seen.
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { StepError } from '../domain/errors.js';

export const EXECUTOR_IDENTITY = { name: 'Autonomous Executor', email: 'executor@localhost' } as const;
/** git's well-known empty tree, the "parent" of a repository's first commit. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const GIT_TIMEOUT_MS = 60_000;

const SAFE_CONFIG: readonly string[] = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.pager=cat',
  'core.editor=false',
  'diff.external=',
  'core.attributesFile=/dev/null',
  'core.excludesFile=/dev/null',
  'core.protectNTFS=true',
  'core.protectHFS=true',
  'core.autocrlf=false',
  'core.quotePath=false',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'tag.forceSignAnnotated=false',
  'log.showSignature=false',
  'gc.auto=0',
  'maintenance.auto=false',
  'init.defaultBranch=main',
  'advice.addIgnoredFile=false',
  `user.name=${EXECUTOR_IDENTITY.name}`,
  `user.email=${EXECUTOR_IDENTITY.email}`,
  'user.useConfigOnly=true',
];

/** The whole environment git runs with: built from scratch, never the executor's own. */
export function gitEnvironment(repoPath: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_LITERAL_PATHSPECS: '1',
    GIT_OPTIONAL_LOCKS: '0',
    // Never discover (and write to) a repository above the droplet's own directory.
    GIT_CEILING_DIRECTORIES: path.dirname(repoPath),
    GIT_AUTHOR_NAME: EXECUTOR_IDENTITY.name,
    GIT_AUTHOR_EMAIL: EXECUTOR_IDENTITY.email,
    GIT_COMMITTER_NAME: EXECUTOR_IDENTITY.name,
    GIT_COMMITTER_EMAIL: EXECUTOR_IDENTITY.email,
  };
  return env;
}

/** A git command that exited non-zero; `stderr` is git's own text (it holds no secrets of ours). */
export class GitCommandError extends Error {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`git exited with code ${exitCode}: ${stderr.trim().slice(0, 500)}`);
    this.name = 'GitCommandError';
  }
}

const DRIVER_COMMAND_KEYS: Readonly<Record<string, readonly string[]>> = {
  filter: ['clean', 'smudge', 'process'],
  diff: ['textconv', 'command'],
};

/**
 * `-c` values that blank every filter and diff driver defined in `configNames`
 * (the output of `git config --name-only --get-regexp`).
 */
export function driverOverrides(configNames: readonly string[]): string[] {
  const overrides = new Set<string>();
  for (const name of configNames) {
    const section = name.slice(0, name.indexOf('.'));
    const keys = DRIVER_COMMAND_KEYS[section];
    const driver = name.slice(section.length + 1, name.lastIndexOf('.'));
    if (!keys || driver === '') continue;
    for (const key of keys) overrides.add(`${section}.${driver}.${key}=`);
    if (section === 'filter') overrides.add(`filter.${driver}.required=false`);
  }
  return [...overrides];
}

export interface GitRunner {
  /** Runs `git <args>` in the repository (feeding `input` on stdin); throws GitCommandError on a non-zero exit. */
  run(args: readonly string[], input?: Buffer): Promise<string>;
}

/**
 * Runs git directly. (simple-git adds a fixed 50 ms to every command that prints
 * nothing, such as `add`; a droplet build makes hundreds of those.)
 */
function runGit(repoPath: string, config: readonly string[], args: readonly string[], input?: Buffer, extraEnv: Record<string, string> = {}): Promise<string> {
  const argv = [...config.flatMap((entry) => ['-c', entry]), ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      argv,
      { cwd: repoPath, env: { ...gitEnvironment(repoPath), ...extraEnv }, timeout: GIT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = typeof error.code === 'number' ? error.code : -1;
        reject(new GitCommandError(code, stderr || error.message));
      },
    );
    // A command that exits without reading its input closes the pipe early: its exit code tells the story.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** Runs `git init` in `repoPath` (which must exist) with the hardened settings. */
export async function initRepository(repoPath: string): Promise<void> {
  await runGit(repoPath, SAFE_CONFIG, ['init', '--quiet']);
}

/** Runs `git init --bare` in `gitDir` (which must exist) with the hardened settings. */
export async function initBareRepository(gitDir: string): Promise<void> {
  await runGit(gitDir, SAFE_CONFIG, ['init', '--bare', '--quiet', gitDir]);
}

/**
 * A runner for a bare repository the executor made and configured itself (publishing
 * pushes from one). `extraEnv` is how credentials reach git (GIT_CONFIG_COUNT/KEY/VALUE),
 * never argv; `config` adds `-c` settings that hold no secret.
 */
export function bareRepository(gitDir: string, options: { config?: readonly string[]; env?: Record<string, string> } = {}): GitRunner {
  const config = [...SAFE_CONFIG, ...(options.config ?? [])];
  return { run: (args, input) => runGit(gitDir, config, [`--git-dir=${gitDir}`, ...args], input, options.env) };
}

/** Whether `repoPath/.git` is a git directory; refuses a `.git` file or link (it could point anywhere). */
export async function hasGitDirectory(repoPath: string): Promise<boolean> {
  try {
    const stat = await lstat(path.join(repoPath, '.git'));
    if (stat.isDirectory()) return true;
    throw new StepError('UNSAFE_REPOSITORY', 'The droplet repository has a .git that is not a plain directory; refusing to use it.', {
      repository: repoPath,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Identity of the config files git reads in this repository (`config`, and
 * `config.worktree` when the repository enables it), or null when they cannot be
 * cached: they include other files, which can change unseen. The change time is in the
 * key because it cannot be set back: generated code that rewrites `.git/config` in
 * place, same size, and restores its modification time still changes it.
 */
async function configIdentity(gitDir: string): Promise<string | null> {
  const parts: string[] = [];
  for (const name of ['config', 'config.worktree']) {
    const file = path.join(gitDir, name);
    const [info, text] = await Promise.all([stat(file, { bigint: true }).catch(() => null), readFile(file, 'utf8').catch(() => '')]);
    if (/^\s*\[\s*include/im.test(text)) return null;
    parts.push(info ? `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}` : '-');
  }
  return parts.join('|');
}

/**
 * A `.git/commondir` file turns the repository into a linked worktree whose config,
 * refs and objects live wherever the file says; the executor never makes one, and a
 * config outside `.git` could change without the driver scan noticing.
 */
async function refuseLinkedWorktree(repoPath: string, gitDir: string): Promise<void> {
  const found = await lstat(path.join(gitDir, 'commondir')).then(() => true, () => false);
  if (!found) return;
  throw new StepError('UNSAFE_REPOSITORY', 'The droplet repository has a .git/commondir (a linked worktree); refusing to use it.', {
    repository: repoPath,
  });
}

/**
 * A runner for one operation on an existing repository: reads the drivers defined in
 * the repository's config once, then runs every command with them blanked.
 */
export async function openRepository(repoPath: string): Promise<GitRunner> {
  const gitDir = path.join(repoPath, '.git');
  // The scan costs a git run per operation; it is reused while the config files are the same, unchanged.
  const [key] = await Promise.all([configIdentity(gitDir), refuseLinkedWorktree(repoPath, gitDir)]);
  const cached = runners.get(repoPath);
  if (key !== null && cached?.key === key) return cached.runner;

  const location = [`--git-dir=${gitDir}`, `--work-tree=${repoPath}`];
  let names: string[] = [];
  try {
    const listed = await runGit(repoPath, SAFE_CONFIG, [...location, 'config', '--includes', '--name-only', '--get-regexp', '^(filter|diff)\\.']);
    names = listed.split('\n').filter(Boolean);
  } catch (error) {
    // Exit 1 means "no such keys"; anything else is a real failure.
    if (!(error instanceof GitCommandError && error.exitCode === 1)) throw error;
  }
  const config = [...SAFE_CONFIG, ...driverOverrides(names)];
  const runner: GitRunner = { run: (args, input) => runGit(repoPath, config, [...location, ...args], input) };
  if (key !== null) runners.set(repoPath, { key, runner });
  else runners.delete(repoPath);
  return runner;
}

const runners = new Map<string, { key: string; runner: GitRunner }>();
