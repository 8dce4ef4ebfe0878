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

/**
 * The SPEC and its proof: written by the SPEC step only. The code step and repairs may
 * not change them, since the droplet is verified against them.
 */
export const SPEC_DOCUMENTS: readonly string[] = ['docs/SPEC.md', 'docs/openapi.json', 'docs/acceptance.json'];

/** `./docs//SPEC.md` → `docs/SPEC.md` (a path that leaves the repository is refused later, when written). */
function plainPath(path: string): string {
  return path.split('/').filter((segment) => segment !== '' && segment !== '.').join('/');
}

/** The changes an author may make to code, and the SPEC documents it tried to change instead. */
export function withoutSpecDocuments(changes: readonly FileChange[]): { kept: FileChange[]; refused: string[] } {
  const kept: FileChange[] = [];
  const refused: string[] = [];
  for (const change of changes) {
    if (SPEC_DOCUMENTS.includes(plainPath(change.path))) refused.push(change.path);
    else kept.push(change);
  }
  return { kept, refused };
}
