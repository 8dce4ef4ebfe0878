/** Files and commits: what authors ask to change and what the repository records. */

/**
 * What an author asks to change. Paths are untrusted: the workspace passes every
 * one through the safe-path function before anything is written.
 */
export type FileChange =
  | { kind: 'write'; path: string; content: string }
  | { kind: 'delete'; path: string };


/** A file of the droplet's repository, read for an author. */
export interface RepoFile {
  path: string;
  content: string;
}

export interface CommitInfo {
  sha: string;
  message: string;
}

export interface Trailers {
  /** Recorded in every commit as `Executor-Step:`. */
  step: string;
  /** Recorded as `Executor-Build:`. */
  buildId: string;
}

/** One commit of a batch: its changes, message and trailers. */
export interface CommitEntry {
  changes: readonly FileChange[];
  message: string;
  trailers: Trailers;
}
