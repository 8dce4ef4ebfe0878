/**
 * Reading what a droplet repository committed, for the dashboard: trees, blobs and
 * commit diffs, always from git's objects, never from the working tree (which running
 * droplet code could have changed). Paths and shas it is given come from the executor's
 * own records; what it answers about a repository is untrusted text.
 */
import type { CommitInfo } from '../files.js';

/** One tracked file of a commit's tree. `blob` is its object id: reads go by id, never by path. */
export interface TreeFile {
  path: string;
  size: number;
  blob: string;
}

/** A blob read as text: `text` is null for a binary file (it holds a NUL byte). */
export interface BlobText {
  text: string | null;
  truncated: boolean;
}

/** What one commit changed: the paths and the unified diff against its parent. */
export interface CommitChange {
  files: string[];
  diff: string;
  truncated: boolean;
}

export interface RepositoryHistory {
  /** The commits whose `Executor-Build:` trailer names `buildId`, oldest first; [] without a repository. */
  buildCommits(repoPath: string, buildId: string): Promise<CommitInfo[]>;
  /** Every blob of `commit`'s tree (recursively; submodules left out), in git's order. */
  treeFiles(repoPath: string, commit: string): Promise<TreeFile[]>;
  /** The blob's first `maxBytes` bytes as UTF-8 text. */
  readBlob(repoPath: string, blob: string, maxBytes: number): Promise<BlobText>;
  /** `commit` against its first parent (the empty tree for a root commit), the diff capped at `maxBytes`. */
  commitChange(repoPath: string, commit: string, maxBytes: number): Promise<CommitChange>;
}
