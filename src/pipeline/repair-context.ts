/**
 * The repository as an author sees it: what a repair is shown of a failure (read
 * through the DropletRepo port, chosen by `domain/repair-context.ts`), and the
 * read-only view behind a model author's read_file and list_files tools.
 */
import type { AuthorWorkspace } from '../domain/ports/author.js';
import type { DropletRepo } from '../domain/ports/repository.js';
import { isReadForRepair, selectRepairContext, type RepairContext } from '../domain/repair-context.js';
import type { VerificationReport } from '../domain/verification.js';

/** A droplet is a small service; past this many files the rest are left out of the selection. */
const MAX_FILES_READ = 400;

/** Reads the repository's sources and tests and picks what the failure involves. */
export async function gatherRepairContext(repo: DropletRepo, failure: VerificationReport): Promise<RepairContext> {
  const paths = (await repo.listFiles()).filter(isReadForRepair).slice(0, MAX_FILES_READ);
  const files = await repo.readFiles(paths);
  return selectRepairContext(failure, new Map(files.map((file) => [file.path, file.content])));
}

const ROOT = new Set(['', '.', './', '/']);

/**
 * Tracked files only, so nothing the droplet's install or tests left behind
 * (node_modules, a planted file) is read; every path goes through the repository's
 * safe-path check first, which throws for one leading out of it.
 */
export function authorWorkspace(repo: DropletRepo): AuthorWorkspace {
  return {
    async readFile(path) {
      const [file] = await repo.readFiles([path]);
      if (!file) return null;
      const tracked = new Set(await repo.listFiles());
      return tracked.has(file.path) ? file.content : null;
    },
    async listFiles(dir) {
      const tracked = await repo.listFiles();
      if (ROOT.has(dir.trim())) return tracked;
      // The safe-path check, for its verdict on the path only (a directory is never read).
      await repo.readFiles([dir]);
      const prefix = `${dir.replace(/^\.\/+/, '').replace(/\/+$/, '')}/`;
      return tracked.filter((path) => path.startsWith(prefix));
    },
  };
}
