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

/**
 * A path as the repository's safe-path function will write it, lower-cased:
 * `./src/..\\docs//SPEC.md` → `docs/spec.md`. (A path that leaves the repository is refused there.)
 */
function plainPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments.join('/').toLowerCase();
}

const PROTECTED = new Set(SPEC_DOCUMENTS.map((path) => path.toLowerCase()));

/** The changes an author may make to code, and the SPEC documents it tried to change instead. */
export function withoutSpecDocuments(changes: readonly FileChange[]): { kept: FileChange[]; refused: string[] } {
  const kept: FileChange[] = [];
  const refused: string[] = [];
  for (const change of changes) {
    if (PROTECTED.has(plainPath(change.path))) refused.push(change.path);
    else kept.push(change);
  }
  return { kept, refused };
}
