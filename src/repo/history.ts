/**
 * The dashboard's view of a droplet repository: what a build committed, read from git's
 * objects through the hardened runner (git.ts), never from the working tree. Files are
 * read by blob id, so no path a client sends ever reaches git or the file system; diffs
 * run with external diff and textconv drivers off.
 */
import type { CommitInfo } from '../domain/files.js';
import type { BlobText, CommitChange, RepositoryHistory, TreeFile } from '../domain/ports/repository-history.js';
import { InternalError, NotFoundError } from '../domain/errors.js';
import { COMMIT_LOG_FORMAT, parseCommitLog } from './commit-log.js';
import { GitCommandError, hasGitDirectory, openRepository, type GitRunner } from './git.js';

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
/** `<mode> <type> <object> <size>\t<path>` as `ls-tree -l` prints it (the size is padded). */
const TREE_LINE = /^(\d{6}) (\w+) ([0-9a-f]+) +(\d+|-)\t([\s\S]+)$/;

function objectId(value: string, what: string): string {
  if (!OBJECT_ID.test(value)) throw new InternalError(`"${value.slice(0, 80)}" is not a ${what} id.`);
  return value;
}

/**
 * The first `maxBytes` bytes of `text`, cut at a line end when there is one, so a diff
 * never ends mid-line (and no character is split).
 */
export function capText(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, truncated: false };
  const head = bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  const lineEnd = head.lastIndexOf('\n');
  return { text: lineEnd > 0 ? head.slice(0, lineEnd + 1) : head, truncated: true };
}

export class GitRepositoryHistory implements RepositoryHistory {
  async buildCommits(repoPath: string, buildId: string): Promise<CommitInfo[]> {
    const git = await this.open(repoPath);
    if (!git || !(await hasCommit(git))) return [];
    const trailer = `Executor-Build: ${buildId}`;
    const output = await git.run(['log', '--reverse', '--fixed-strings', `--grep=${trailer}`, COMMIT_LOG_FORMAT, 'HEAD', '--']);
    // --grep matches a substring: `build-x` would also find `build-x-2`'s commits.
    return parseCommitLog(output).filter((commit) => commit.message.split('\n').some((line) => line.trim() === trailer));
  }

  async treeFiles(repoPath: string, commit: string): Promise<TreeFile[]> {
    const git = await this.open(repoPath);
    if (!git) return [];
    const output = await git.run(['ls-tree', '-r', '-l', '-z', '--full-tree', objectId(commit, 'commit'), '--']);
    const files: TreeFile[] = [];
    for (const entry of output.split('\0')) {
      const match = TREE_LINE.exec(entry);
      // Blobs only: a submodule (type commit) has no content here.
      if (!match || match[2] !== 'blob') continue;
      files.push({ path: match[5]!, size: Number(match[4]), blob: match[3]! });
    }
    return files;
  }

  async readBlob(repoPath: string, blob: string, maxBytes: number): Promise<BlobText> {
    const git = await this.open(repoPath);
    if (!git) throw new NotFoundError('The droplet repository is gone.', { repository: repoPath });
    const content = await git.run(['cat-file', 'blob', objectId(blob, 'blob')]);
    // Git's own test for binary: a NUL byte (it survives UTF-8 decoding unchanged).
    if (content.includes('\0')) return { text: null, truncated: false };
    return capText(content, maxBytes);
  }

  async commitChange(repoPath: string, commit: string, maxBytes: number): Promise<CommitChange> {
    const git = await this.open(repoPath);
    if (!git) throw new NotFoundError('The droplet repository is gone.', { repository: repoPath });
    const sha = objectId(commit, 'commit');
    const common = ['diff-tree', '-r', '--root', '--no-commit-id', '--no-renames', '--no-ext-diff', '--no-textconv', '--no-color'];
    const [names, patch] = await Promise.all([git.run([...common, '--name-only', '-z', sha, '--']), git.run([...common, '-p', sha, '--'])]);
    const { text, truncated } = capText(patch, maxBytes);
    return { files: names.split('\0').filter(Boolean), diff: text, truncated };
  }

  /** The runner for an existing repository, or null when none was created yet. */
  private async open(repoPath: string): Promise<GitRunner | null> {
    return (await hasGitDirectory(repoPath)) ? openRepository(repoPath) : null;
  }
}

async function hasCommit(git: GitRunner): Promise<boolean> {
  try {
    return (await git.run(['rev-parse', '-q', '--verify', 'HEAD^{commit}'])).trim() !== '';
  } catch (error) {
    if (error instanceof GitCommandError) return false;
    throw error;
  }
}
