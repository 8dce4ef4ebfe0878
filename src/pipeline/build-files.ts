/**
 * The BuildFileService: a build's committed files and the diffs of its repairs, read
 * through the RepositoryHistory port. "A build's files" are those of the newest commit
 * the build made (its `Executor-Build:` trailer), so a later build of the same droplet
 * does not change what an earlier build's page shows.
 */
import { NotFoundError } from '../domain/errors.js';
import type { BuildStore } from '../domain/ports/build-store.js';
import type { RepositoryHistory } from '../domain/ports/repository-history.js';
import type { CommitInfo } from '../domain/files.js';
import type { BuildFileService, RepairIteration } from './service.js';

/** A file's text is served up to this many bytes. */
export const FILE_TEXT_LIMIT = 256 * 1024;
/** A repair's diff is served up to this many bytes. */
export const REPAIR_DIFF_LIMIT = 200 * 1024;
/** The subject the verifier gives every repair commit (steps/verifier.ts). */
const REPAIR_SUBJECT = /^fix: repair after verification attempt (\d+)$/;

export interface BuildFilesDeps {
  store: Pick<BuildStore, 'get'>;
  history: RepositoryHistory;
}

function subjectOf(commit: CommitInfo): string {
  return commit.message.split('\n', 1)[0]!.trim();
}

export function createBuildFileService({ store, history }: BuildFilesDeps): BuildFileService {
  /** The build's repository and its commits; no repository yet is no commits. */
  async function commitsOf(buildId: string): Promise<{ repoPath: string | null; commits: CommitInfo[] }> {
    const build = await store.get(buildId);
    if (!build) throw new NotFoundError(`No build ${buildId}.`, { build_id: buildId });
    if (build.repositoryPath === null) return { repoPath: null, commits: [] };
    return { repoPath: build.repositoryPath, commits: await history.buildCommits(build.repositoryPath, buildId) };
  }

  async function latestTree(buildId: string) {
    const { repoPath, commits } = await commitsOf(buildId);
    const latest = commits.at(-1);
    if (!repoPath || !latest) return null;
    return { repoPath, commit: latest.sha, files: await history.treeFiles(repoPath, latest.sha) };
  }

  return {
    async list(buildId) {
      const tree = await latestTree(buildId);
      if (!tree) return { commit: null, files: [] };
      return { commit: tree.commit, files: tree.files.map(({ path, size }) => ({ path, size })) };
    },

    async read(buildId, path) {
      const tree = await latestTree(buildId);
      // Exact match against the tree: nothing a client sends is resolved as a path.
      const file = tree?.files.find((entry) => entry.path === path);
      if (!tree || !file) throw new NotFoundError(`Build ${buildId} has no file "${path.slice(0, 300)}".`, { build_id: buildId, path: path.slice(0, 300) });
      const { text, truncated } = await history.readBlob(tree.repoPath, file.blob, FILE_TEXT_LIMIT);
      return { path: file.path, size: file.size, commit: tree.commit, content: text, binary: text === null, truncated };
    },

    async repairs(buildId) {
      const { repoPath, commits } = await commitsOf(buildId);
      if (!repoPath) return [];
      const repairs: RepairIteration[] = [];
      for (const commit of commits) {
        const match = REPAIR_SUBJECT.exec(subjectOf(commit));
        if (!match) continue;
        const change = await history.commitChange(repoPath, commit.sha, REPAIR_DIFF_LIMIT);
        repairs.push({ attempt: Number(match[1]), commit: commit.sha, message: subjectOf(commit), ...change });
      }
      return repairs;
    },
  };
}
