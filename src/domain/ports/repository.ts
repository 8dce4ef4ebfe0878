/** The droplets' git repositories, as steps see them. */
import type { DropletIdentity } from '../build.js';
import type { CommitEntry, CommitInfo, FileChange, RepoFile, Trailers } from '../files.js';

/** A droplet's git repository. All paths it accepts are untrusted and re-checked. */
export interface DropletRepo {
  readonly path: string;
  /** Creates the repository (idempotent: an existing repo is reused). */
  ensure(): Promise<void>;
  /** Applies the changes (safe paths only) and commits them; null when nothing changed. */
  commitChanges(changes: readonly FileChange[], message: string, trailers: Trailers): Promise<CommitInfo | null>;
  /**
   * One commit per entry, in order, in a single pass (every path and secret checked
   * before anything is written); an entry that changes nothing gets null.
   */
  commitEach(entries: readonly CommitEntry[]): Promise<(CommitInfo | null)[]>;
  /** Commits whatever is in the working tree (e.g. a lockfile written by install). */
  commitWorkingTree(message: string, trailers: Trailers, options?: { allowEmpty?: boolean }): Promise<CommitInfo | null>;
  /**
   * Regular files only, each at most 1 MiB; anything else (missing, a FIFO, a link,
   * too large) is left out. A path leading out of the repository throws UnsafePathError.
   */
  readFiles(paths: readonly string[]): Promise<RepoFile[]>;
  /**
   * Puts the working tree back to HEAD: tracked files restored, untracked and ignored
   * files removed except the root `node_modules` (no reinstall needed). Run it while
   * nothing of the droplet runs. Throws StepError NOTHING_TO_RESTORE before the first commit.
   */
  restoreWorkingTree(): Promise<void>;
  /** Tracked files, repository-relative. */
  listFiles(): Promise<string[]>;
  head(): Promise<string | null>;
  /** An annotated tag on `commit` (default HEAD); the same tag on the same commit again is a no-op, on another a TAG_CONFLICT. */
  tag(name: string, message: string, commit?: string): Promise<void>;
  /** A tar of the commit's tree (`git archive`), written to `file`: what a deploy ships. */
  archive(commit: string, file: string): Promise<void>;
  log(): Promise<CommitInfo[]>;
}

export interface Workspace {
  /** Where the droplet's repository lives: `${DATA_DIR}/repos/<id>-<name>`. */
  repoFor(droplet: DropletIdentity): DropletRepo;
}
