/**
 * `git log` output read back as commits: each record is `<sha>US<message>RS`, separators
 * no commit message contains, so multi-line messages survive.
 */
import type { CommitInfo } from '../domain/files.js';

const RECORD_SEPARATOR = '\x1e';
const UNIT_SEPARATOR = '\x1f';

/** The `--format=` that `parseCommitLog` reads. */
export const COMMIT_LOG_FORMAT = `--format=%H${UNIT_SEPARATOR}%B${RECORD_SEPARATOR}`;

export function parseCommitLog(output: string): CommitInfo[] {
  return output
    .split(RECORD_SEPARATOR)
    .map((record) => record.replace(/^\n+/, ''))
    .filter((record) => record.includes(UNIT_SEPARATOR))
    .map((record) => {
      const at = record.indexOf(UNIT_SEPARATOR);
      return { sha: record.slice(0, at), message: record.slice(at + 1).trim() };
    });
}
