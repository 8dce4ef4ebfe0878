/**
 * Many commits in one pass: the author's files become one commit each (the issue's
 * "each write is a commit"), but through a single `git fast-import` instead of five git
 * runs per file. fast-import runs no hooks, reads no attributes or filters, and refuses
 * to move the branch unless the result descends from the HEAD it was given.
 */
import { createHash } from 'node:crypto';
import { GitCommandError, EXECUTOR_IDENTITY, type GitRunner } from './git.js';
import type { CommitInfo } from '../domain/files.js';

export interface PlannedChange {
  /** Repository-relative, already checked by resolveSafePath. */
  relative: string;
  /** Bytes to write; absent for a delete. */
  content?: Buffer;
}

export interface PlannedCommit {
  /** The whole message, trailers included. */
  message: string;
  changes: readonly PlannedChange[];
}

/** git's id of a blob with this content (SHA-1 object format, git's default). */
export function blobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** fast-import reads a path to the end of the line; only a leading quote needs C-style quoting. */
function importPath(relative: string): string {
  return relative.startsWith('"') ? `"${relative.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : relative;
}

function data(bytes: Buffer): Buffer[] {
  return [Buffer.from(`data ${bytes.length}\n`), bytes, Buffer.from('\n')];
}

/** The fast-import program: one commit per entry on `ref`, each followed by `get-mark` so its id is printed. */
export function fastImportStream(ref: string, parent: string | null, commits: readonly PlannedCommit[], epochSeconds: number): Buffer {
  const parts: Buffer[] = [];
  const who = `${EXECUTOR_IDENTITY.name} <${EXECUTOR_IDENTITY.email}> ${epochSeconds} +0000`;
  commits.forEach((commit, index) => {
    parts.push(Buffer.from(`commit ${ref}\nmark :${index + 1}\nauthor ${who}\ncommitter ${who}\n`), ...data(Buffer.from(commit.message)));
    if (index === 0 && parent) parts.push(Buffer.from(`from ${parent}\n`));
    for (const change of commit.changes) {
      if (change.content === undefined) parts.push(Buffer.from(`D ${importPath(change.relative)}\n`));
      else parts.push(Buffer.from(`M 100644 inline ${importPath(change.relative)}\n`), ...data(change.content));
    }
    parts.push(Buffer.from(`\nget-mark :${index + 1}\n`));
  });
  parts.push(Buffer.from('done\n'));
  return Buffer.concat(parts);
}

async function headCommit(git: GitRunner): Promise<string | null> {
  try {
    return (await git.run(['rev-parse', '-q', '--verify', 'HEAD^{commit}'])).trim() || null;
  } catch (error) {
    if (error instanceof GitCommandError) return null;
    throw error;
  }
}

/**
 * What HEAD holds at these paths (and below them, for directories), as `mode:blob` so
 * that a link or an executable with the same bytes still counts as a change.
 */
async function blobsAtHead(git: GitRunner, head: string | null, paths: readonly string[]): Promise<Map<string, string>> {
  const blobs = new Map<string, string>();
  if (!head || paths.length === 0) return blobs;
  for (const record of (await git.run(['ls-tree', '-r', '-z', '--full-tree', head, '--', ...paths])).split('\0')) {
    const match = /^(\d+) blob ([0-9a-f]+)\t(.*)$/s.exec(record);
    if (match) blobs.set(match[3]!, `${match[1]}:${match[2]}`);
  }
  return blobs;
}

/** Forgets `relative` and everything below it; true when anything was there. */
function removeTree(state: Map<string, string>, relative: string): boolean {
  let removed = false;
  for (const path of [...state.keys()]) {
    if (path === relative || path.startsWith(`${relative}/`)) removed = state.delete(path) || removed;
  }
  return removed;
}

/** Which of these paths (on disk, untracked) .gitignore excludes; tracked paths never are. */
async function ignoredAmong(git: GitRunner, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  return new Set((await git.run(['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--', ...paths])).split('\0').filter(Boolean));
}

/**
 * Commits each entry in order (files must already be on disk); an entry that changes
 * nothing relative to the ones before it gets null. Leaves the index matching HEAD.
 */
export async function commitInOnePass(git: GitRunner, entries: readonly PlannedCommit[]): Promise<(CommitInfo | null)[]> {
  const paths = [...new Set(entries.flatMap((entry) => entry.changes.map((change) => change.relative)))];
  const head = await headCommit(git);
  const [state, ignored] = await Promise.all([blobsAtHead(git, head, paths), ignoredAmong(git, paths)]);

  const planned: { index: number; commit: PlannedCommit }[] = [];
  entries.forEach((entry, index) => {
    const effective = entry.changes.filter((change) => {
      if (change.content === undefined) return removeTree(state, change.relative);
      if (ignored.has(change.relative)) return false;
      const id = `100644:${blobId(change.content)}`;
      if (state.get(change.relative) === id) return false;
      state.set(change.relative, id);
      return true;
    });
    if (effective.length > 0) planned.push({ index, commit: { message: entry.message, changes: effective } });
  });
  const results: (CommitInfo | null)[] = entries.map(() => null);
  if (planned.length === 0) return results;

  const ref = (await git.run(['symbolic-ref', '-q', 'HEAD'])).trim() || 'refs/heads/main';
  const stream = fastImportStream(ref, head, planned.map((entry) => entry.commit), Math.floor(Date.now() / 1000));
  const marks = (await git.run(['fast-import', '--quiet', '--done'], stream)).trim().split('\n');
  planned.forEach((entry, position) => {
    const sha = marks[position]?.trim() ?? '';
    if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new GitCommandError(-1, `fast-import printed no commit for entry ${entry.index + 1}`);
    results[entry.index] = { sha, message: entry.commit.message };
  });
  // The files are on disk already; the index catches up with the new HEAD, stat data included.
  await git.run(['read-tree', 'HEAD']);
  await git.run(['update-index', '-q', '--refresh']).catch((error: unknown) => {
    // Exit 1 only says some entries differ from disk (an ignored file written meanwhile): nothing to fix.
    if (!(error instanceof GitCommandError && error.exitCode === 1)) throw error;
  });
  return results;
}
