/**
 * A droplet's git repository: every change is validated, scanned for secrets and then
 * committed with trailers naming the step and the build. Git itself runs hardened
 * (see git.ts): nothing from the generated repository is ever executed.
 */
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FileChange, RepoFile } from '../domain/files.js';
import { DROPLET_NAME_PATTERN, type DropletIdentity } from '../domain/build.js';
import { StepError, UnsafePathError } from '../domain/errors.js';
import type { ScannedFile, SecretFinding } from '../support/secrets.js';
import { EMPTY_TREE, GitCommandError, hasGitDirectory, initRepository, openRepository, type GitRunner } from './git.js';
import { assertAuthorWritable, assertFileLimits, MAX_FILE_BYTES, resolveSafePath } from './paths.js';
import { commitInOnePass } from './batch-commit.js';
import { COMMIT_LOG_FORMAT, parseCommitLog } from './commit-log.js';
import { readForScan, readRegularFile, refuseLinkedParents, removeSpecialFiles, writeNoFollow } from '../support/files.js';
import type { CommitEntry, CommitInfo, Trailers } from '../domain/files.js';
import type { DropletRepo, Workspace } from '../domain/ports/repository.js';

/** What the repository needs from a secret scanner (`SecretScanner` fits). */
export interface CommitSecretScanner {
  scan(files: readonly ScannedFile[]): Array<Pick<SecretFinding, 'path' | 'kind'>>;
}

export interface GitWorkspaceOptions {
  /** Parent directory of every droplet repository, e.g. `${DATA_DIR}/repos`. */
  reposDir: string;
  /** Checks new contents before every commit; a finding refuses the commit. */
  secretScanner?: CommitSecretScanner;
}

const TAG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** Kept by restoreWorkingTree, so the next verification need not reinstall. */
const INSTALLED_DEPENDENCIES = 'node_modules';
/** Kept with them: it says what was installed (install re-checks it, the deploy keys its module store by it). */
const INSTALLED_LOCKFILE = 'package-lock.json';

function nulList(output: string): string[] {
  return output.split('\0').filter(Boolean);
}

/** One line, so a trailer value cannot smuggle in another trailer. */
function trailerValue(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

function fullMessage(message: string, trailers: Trailers): string {
  const subject = message.trim() || 'Update';
  return `${subject}\n\nExecutor-Step: ${trailerValue(trailers.step)}\nExecutor-Build: ${trailerValue(trailers.buildId)}`;
}

/** Removes what is at `target` unless it is a plain file (or directory), not a link. */
async function removeUnlessKind(target: string, kind: 'file' | 'directory'): Promise<void> {
  const entry = await lstat(target).catch(() => null);
  if (!entry) return;
  if (kind === 'file' ? entry.isFile() : entry.isDirectory()) return;
  await rm(target, { recursive: true, force: true });
}

export class GitDropletRepo implements DropletRepo {
  /** Operations on one repository run one at a time (git's index is a single lock). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly secretScanner?: CommitSecretScanner,
  ) {}

  ensure(): Promise<void> {
    return this.exclusive(() => this.ensureRepository());
  }

  async commitChanges(changes: readonly FileChange[], message: string, trailers: Trailers): Promise<CommitInfo | null> {
    const [commit] = await this.commitEach([{ changes, message, trailers }]);
    return commit ?? null;
  }

  commitEach(entries: readonly CommitEntry[]): Promise<(CommitInfo | null)[]> {
    return this.exclusive(async () => {
      // Everything is checked before the first byte is written.
      assertFileLimits(entries.flatMap((entry) => entry.changes));
      const resolved = entries.map((entry) =>
        entry.changes.map((change) => {
          const target = resolveSafePath(this.path, change.path);
          assertAuthorWritable(target, change.path);
          return { change, target };
        }),
      );
      this.assertNoSecrets(
        resolved.flat().flatMap(({ change, target }) => (change.kind === 'write' ? [{ path: target.relative, content: change.content }] : [])),
        entries.map((entry) => entry.message).join('\n'),
      );
      await this.ensureRepository();
      for (const { target } of resolved.flat()) await refuseLinkedParents(this.path, target.relative);
      for (const { change, target } of resolved.flat()) {
        if (change.kind === 'write') await writeNoFollow(target.absolute, change.content);
        else await rm(target.absolute, { recursive: true, force: true });
      }
      const planned = entries.map((entry, index) => ({
        message: fullMessage(entry.message, entry.trailers),
        changes: resolved[index]!.map(({ change, target }) => ({
          relative: target.relative,
          ...(change.kind === 'write' ? { content: Buffer.from(change.content, 'utf8') } : {}),
        })),
      }));
      return commitInOnePass(await openRepository(this.path), planned);
    });
  }

  commitWorkingTree(message: string, trailers: Trailers, options: { allowEmpty?: boolean } = {}): Promise<CommitInfo | null> {
    return this.exclusive(async () => {
      await this.ensureRepository();
      const git = await openRepository(this.path);
      // New and modified files that .gitignore does not exclude: exactly what `add -A` stages.
      const candidates = nulList(await git.run(['ls-files', '-z', '--others', '--modified', '--exclude-standard']));
      const files: ScannedFile[] = [];
      for (const relative of new Set(candidates)) {
        const content = await readForScan(path.join(this.path, relative));
        if (content !== null) files.push({ path: relative, content });
      }
      this.assertNoSecrets(files, message);
      await git.run(['add', '-A']);
      return this.commitIndex(git, fullMessage(message, trailers), options.allowEmpty ?? false);
    });
  }

  /**
   * Files that are missing, are not regular files (a FIFO, a device, a link inside the
   * repository) or are larger than an authored file may be are left out: droplet code
   * may have planted them, and none of them is source a repair could use. A path that
   * leads out of the repository (a link to /dev/zero too) is refused: UnsafePathError.
   */
  readFiles(paths: readonly string[]): Promise<RepoFile[]> {
    return this.exclusive(async () => {
      const targets = paths.map((requested) => resolveSafePath(this.path, requested));
      const files: RepoFile[] = [];
      for (const target of targets) {
        const read = await readRegularFile(target.absolute, { maxBytes: MAX_FILE_BYTES, within: this.path });
        if (read.status === 'read') files.push({ path: target.relative, content: read.content.toString('utf8') });
      }
      return files;
    });
  }

  /**
   * Puts the working tree back to HEAD: tracked files restored, everything untracked
   * removed (ignored files too, so a planted `.gitignore` hides nothing), except the
   * installed `node_modules` and the lockfile that describes it, at the root. Nested repositories go too (`-ff`), and the
   * FIFOs, sockets and devices git does not see. Git replaces links rather than
   * writing through them; hooks and filter drivers are off (git.ts).
   */
  restoreWorkingTree(): Promise<void> {
    return this.exclusive(async () => {
      const git = (await this.repositoryExists()) ? await openRepository(this.path) : null;
      if (!git || (await this.resolveCommit(git, 'HEAD')) === null) {
        throw new StepError('NOTHING_TO_RESTORE', 'The droplet repository has no commit to restore the working tree to.', { repository: this.path });
      }
      await git.run(['reset', '--hard', '--quiet', '--no-recurse-submodules', 'HEAD']);
      await git.run(['clean', '-ffdxq', '-e', `/${INSTALLED_DEPENDENCIES}/`, '-e', `/${INSTALLED_LOCKFILE}`]);
      // Kept only as what they claim to be: a link planted in either's place would be followed by npm and the installer.
      await removeUnlessKind(path.join(this.path, INSTALLED_LOCKFILE), 'file');
      await removeUnlessKind(path.join(this.path, INSTALLED_DEPENDENCIES), 'directory');
      await removeSpecialFiles(this.path, new Set(['.git', INSTALLED_DEPENDENCIES]));
    });
  }

  listFiles(): Promise<string[]> {
    return this.exclusive(async () => {
      if (!(await this.repositoryExists())) return [];
      const git = await openRepository(this.path);
      return nulList(await git.run(['ls-files', '-z']));
    });
  }

  head(): Promise<string | null> {
    return this.exclusive(async () => {
      if (!(await this.repositoryExists())) return null;
      return this.resolveCommit(await openRepository(this.path), 'HEAD');
    });
  }

  /** A tar of `commit`'s tree (what was committed, never the working tree), written to `file`. */
  archive(commit: string, file: string): Promise<void> {
    return this.exclusive(async () => {
      if (!/^[0-9a-f]{40}$/.test(commit)) throw new StepError('DEPLOY_INVALID_RELEASE', `"${commit.slice(0, 80)}" is not a commit id.`);
      const git = await openRepository(this.path);
      // The tree as committed and verified, byte for byte: no export-ignore, export-subst, eol,
      // encoding or filter from the droplet's own .gitattributes. info/attributes outranks every in-tree attribute file.
      const info = path.join(this.path, '.git', 'info');
      await mkdir(info, { recursive: true });
      await writeFile(path.join(info, 'attributes'), '* -export-ignore -export-subst -text -eol -ident -filter -working-tree-encoding\n');
      await git.run(['archive', '--format=tar', `--output=${file}`, commit, '--']);
    });
  }

  tag(name: string, message: string, commit?: string): Promise<void> {
    return this.exclusive(async () => {
      if (!TAG_NAME.test(name) || name.includes('..') || name.endsWith('.lock')) {
        throw new StepError('INVALID_TAG', `"${name.slice(0, 200)}" is not a valid tag name.`, { tag: name.slice(0, 200) });
      }
      if (commit !== undefined && !/^[0-9a-f]{40}$/.test(commit)) {
        throw new StepError('INVALID_TAG', `"${commit.slice(0, 80)}" is not a commit id to tag.`, { tag: name });
      }
      const git = (await this.repositoryExists()) ? await openRepository(this.path) : null;
      const head = git && (await this.resolveCommit(git, commit ?? 'HEAD'));
      if (!git || head === null) throw new StepError('NOTHING_TO_TAG', commit === undefined ? 'The droplet repository has no commit to tag yet.' : `The droplet repository has no commit ${commit}.`, { tag: name });
      const existing = await this.resolveCommit(git, `refs/tags/${name}`);
      if (existing === head) return;
      if (existing !== null) {
        throw new StepError('TAG_CONFLICT', `Tag "${name}" already exists on another commit.`, { tag: name, commit: existing, head });
      }
      await git.run(['tag', '-a', `--message=${message.trim() || name}`, '--', name, head]);
    });
  }

  log(): Promise<CommitInfo[]> {
    return this.exclusive(async () => {
      if (!(await this.repositoryExists())) return [];
      const git = await openRepository(this.path);
      if ((await this.resolveCommit(git, 'HEAD')) === null) return [];
      return parseCommitLog(await git.run(['log', COMMIT_LOG_FORMAT, 'HEAD']));
    });
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation, operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private repositoryExists(): Promise<boolean> {
    return hasGitDirectory(this.path);
  }

  private async ensureRepository(): Promise<void> {
    await mkdir(this.path, { recursive: true });
    if (!(await hasGitDirectory(this.path))) await initRepository(this.path);
  }

  private assertNoSecrets(files: readonly ScannedFile[], message: string): void {
    if (!this.secretScanner) return;
    const findings = this.secretScanner.scan([...files, { path: '(commit message)', content: message }]);
    if (findings.length === 0) return;
    const where = [...new Set(findings.map((finding) => finding.path))];
    throw new StepError(
      'SECRET_DETECTED',
      `Refused to commit: ${where.length} file(s) appear to contain a secret (${where.slice(0, 5).join(', ')}${where.length > 5 ? ', …' : ''}).`,
      { findings: findings.map(({ path: file, kind }) => ({ path: file, kind })) },
    );
  }

  /**
   * Commits the index; null when it matches HEAD (unless an empty commit is wanted).
   * Plumbing (commit-tree + update-ref) keeps it to four git runs and runs no hooks at all.
   */
  private async commitIndex(git: GitRunner, message: string, allowEmpty: boolean): Promise<CommitInfo | null> {
    const tree = (await git.run(['write-tree'])).trim();
    const head = await this.headAndTree(git);
    if (tree === (head?.tree ?? EMPTY_TREE) && !allowEmpty) return null;
    const parentArgs = head ? ['-p', head.sha] : [];
    const sha = (await git.run(['commit-tree', tree, ...parentArgs, '-m', cleanMessage(message)])).trim();
    if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new StepError('COMMIT_FAILED', 'git reported no commit after committing.');
    // The old value makes the update atomic: a HEAD moved meanwhile fails instead of being lost.
    await git.run(['update-ref', '-m', 'executor commit', 'HEAD', sha, head?.sha ?? '']);
    return { sha, message };
  }

  /** HEAD's commit and tree in one git run; null before the first commit. */
  private async headAndTree(git: GitRunner): Promise<{ sha: string; tree: string } | null> {
    try {
      const [sha, tree] = (await git.run(['show', '-s', '--no-show-signature', '--format=%H%n%T', 'HEAD', '--'])).trim().split('\n');
      return sha && tree ? { sha, tree } : null;
    } catch (error) {
      if (error instanceof GitCommandError) return null;
      throw error;
    }
  }

  private async resolveCommit(git: GitRunner, ref: string): Promise<string | null> {
    try {
      const sha = (await git.run(['rev-parse', '-q', '--verify', `${ref}^{commit}`])).trim();
      return sha === '' ? null : sha;
    } catch (error) {
      if (error instanceof GitCommandError) return null;
      throw error;
    }
  }
}

/** What `git commit --cleanup=whitespace` would store: no trailing spaces or blank lines at the ends. */
function cleanMessage(message: string): string {
  return `${message.replace(/[ \t]+$/gm, '').replace(/^\n+|\n+$/g, '')}\n`;
}

export class GitWorkspace implements Workspace {
  private readonly repos = new Map<string, GitDropletRepo>();

  constructor(private readonly options: GitWorkspaceOptions) {}

  /** The same instance for the same droplet, so its operations stay serialised. */
  repoFor(droplet: DropletIdentity): GitDropletRepo {
    const { dropletId, name } = droplet;
    if (!Number.isSafeInteger(dropletId) || dropletId < 0 || !DROPLET_NAME_PATTERN.test(name) || name.length > 100) {
      throw new UnsafePathError(`${String(dropletId)}-${name.slice(0, 100)}`, 'a droplet needs a non-negative integer id and a kebab-case name');
    }
    const repoPath = path.join(path.resolve(this.options.reposDir), `${dropletId}-${name}`);
    let repo = this.repos.get(repoPath);
    if (!repo) {
      repo = new GitDropletRepo(repoPath, this.options.secretScanner);
      this.repos.set(repoPath, repo);
    }
    return repo;
  }
}
