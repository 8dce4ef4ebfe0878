/**
 * What a publish takes from the droplet's repository, which generated code may have
 * written to (with SANDBOX=off, or without bubblewrap, it can write `.git`):
 *   - objects only from the droplet's own `.git/objects`: a `.git`, `objects` (or a
 *     directory in it) that is a symbolic link, or an `objects/info/alternates`, would
 *     lend the publishing repository objects from anywhere, so the publish is refused;
 *   - only the executor's own tags (`release-<build id>` from step 6, `v<semver>` from
 *     step 7), and only those on the pushed commit or one of its ancestors: a tag planted
 *     on an unrelated commit would carry that commit's history to the remote.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isSemver } from '../domain/registration.js';
import { StepError } from '../domain/errors.js';
import type { GitRunner } from './git.js';

/** The build ids the executor names branches and release tags after. */
export const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface OwnTag {
  name: string;
  /** What refs/tags/<name> points at (a tag object, or the commit itself). */
  object: string;
}

function unsafe(repositoryPath: string, what: string): StepError {
  return new StepError('PUBLISH_FAILED', `The droplet repository's ${what}; refusing to publish objects that may come from elsewhere.`, {
    repository: repositoryPath,
  });
}

/** Directories of `.git/objects` git reads objects through; none may be a link. */
async function assertNoLinks(repositoryPath: string, dir: string, shown: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const link = entries.find((entry) => entry.isSymbolicLink());
  if (link) throw unsafe(repositoryPath, `${shown}/${link.name.slice(0, 100)} is a symbolic link`);
}

/** Refuses a repository whose objects could come from outside its own `.git/objects`. */
export async function assertOwnObjects(repositoryPath: string): Promise<void> {
  const gitDir = path.join(repositoryPath, '.git');
  const git = await lstat(gitDir).catch(() => null);
  if (git?.isSymbolicLink()) throw unsafe(repositoryPath, '.git is a symbolic link');
  if (git && !git.isDirectory()) throw unsafe(repositoryPath, '.git is not a plain directory');
  if (!git) return;
  const objects = path.join(gitDir, 'objects');
  const stat = await lstat(objects).catch(() => null);
  if (stat?.isSymbolicLink()) throw unsafe(repositoryPath, '.git/objects is a symbolic link');
  if (stat && !stat.isDirectory()) throw unsafe(repositoryPath, '.git/objects is not a directory');
  for (const file of ['alternates', 'http-alternates']) {
    if (await lstat(path.join(objects, 'info', file)).then(() => true, () => false)) throw unsafe(repositoryPath, `.git/objects/info/${file} exists`);
  }
  await assertNoLinks(repositoryPath, objects, '.git/objects');
  await assertNoLinks(repositoryPath, path.join(objects, 'pack'), '.git/objects/pack');
  await assertNoLinks(repositoryPath, path.join(objects, 'info'), '.git/objects/info');
}

/** `release-<build id>` (step 6) or `v<semver>` (step 7): the only tags the executor makes. */
export function isExecutorTag(name: string): boolean {
  if (name.startsWith('release-')) {
    const buildId = name.slice('release-'.length);
    return BUILD_ID.test(buildId) && !buildId.includes('..') && !buildId.endsWith('.lock');
  }
  return name.startsWith('v') && isSemver(name.slice(1));
}

/**
 * The executor's tags on `commit` or its ancestors (`--merged` peels annotated tags to
 * their commit: the same test as `merge-base --is-ancestor`, in one run). A tag of a tag
 * is skipped: the executor makes none.
 */
export async function ownTags(source: GitRunner, commit: string): Promise<OwnTag[]> {
  const found = await source.run(['rev-parse', '--verify', '--quiet', '--end-of-options', `${commit}^{commit}`]).catch(() => null);
  if (found?.trim() !== commit) throw new StepError('PUBLISH_FAILED', `The droplet repository has no commit ${commit}.`, { commit });
  const listed = await source.run(['for-each-ref', `--merged=${commit}`, '--format=%(objectname) %(objecttype) %(*objecttype) %(refname)', 'refs/tags/']);
  const tags: OwnTag[] = [];
  for (const line of listed.split('\n')) {
    const match = /^([0-9a-f]{40,64}) (commit|tag) (commit)? ?refs\/tags\/(\S+)$/.exec(line);
    if (!match) continue;
    const [, object, type, peeled, name] = match as unknown as [string, string, string, string | undefined, string];
    if (type === 'tag' && peeled !== 'commit') continue;
    if (isExecutorTag(name)) tags.push({ name, object });
  }
  return tags;
}

/** Creates the tags as refs in the publishing repository (their objects come through its alternates). */
export async function copyTags(target: GitRunner, tags: readonly OwnTag[]): Promise<void> {
  if (tags.length === 0) return;
  await target.run(['update-ref', '--stdin'], Buffer.from(tags.map((tag) => `create refs/tags/${tag.name} ${tag.object}\n`).join('')));
}

/** Explicit refspecs for exactly these tags (never `--tags`, which would push every tag the repository holds). */
export function tagRefspecs(tags: readonly OwnTag[]): string[] {
  return tags.map((tag) => `refs/tags/${tag.name}:refs/tags/${tag.name}`);
}
