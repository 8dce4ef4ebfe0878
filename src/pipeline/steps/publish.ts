/**
 * Publishing the droplet's repository, as the steps use it: after verification the
 * build's branch (and the executor's tags on its history) are pushed and the status's
 * repository_url becomes the remote; on completion the default branch is fast-forwarded
 * to the verified commit.
 * Without a publisher (no GIT_REMOTE_URL_TEMPLATE) both do nothing.
 */
import { StepError } from '../../domain/errors.js';
import type { StepContext } from '../types.js';

type PublishContext = Pick<StepContext, 'build' | 'droplet' | 'providers' | 'progress' | 'setLocations'>;

/** At most this many tag names go in the details and events (with the count). */
const LISTED_TAGS = 20;

// eslint-disable-next-line no-control-regex -- control characters are what is removed
const CONTROL = /[\x00-\x1f\x7f-\x9f]+/g;

function asPublishFailure(error: unknown): StepError {
  if (error instanceof StepError) return error;
  // The publisher words its own failures (remote text made printable); anything else may quote git or a remote.
  const said = (error instanceof Error ? error.message : String(error)).replace(CONTROL, ' ');
  return new StepError('PUBLISH_FAILED', `Publishing the repository failed: ${said}`.slice(0, 800));
}

function listedTags(tags: readonly string[]): { tags: string[]; tag_count: number } {
  return { tags: tags.slice(0, LISTED_TAGS), tag_count: tags.length };
}

/**
 * End of step 5: pushes `builds/<build id>` → `commit`, tags included. A failure fails
 * the step (PUBLISH_FAILED, retryable): the issue has the repository pushed after verification.
 */
export async function publishVerified(context: PublishContext, commit: string): Promise<{ repository: Record<string, unknown> } | null> {
  const { build, droplet, providers, progress, setLocations } = context;
  if (!providers.publisher) return null;
  const repositoryPath = providers.workspace.repoFor(droplet).path;
  const published = await providers.publisher.publishBuild(droplet, repositoryPath, build.id, commit).catch((error: unknown) => {
    throw asPublishFailure(error);
  });
  await setLocations({ repositoryUrl: published.remoteUrl });
  progress(`pushed ${published.branch} to ${published.remoteUrl}${published.created ? ' (a new repository)' : ''}`, {
    remote_url: published.remoteUrl,
    branch: published.branch,
    commit,
    created: published.created,
  });
  return { repository: { remote_url: published.remoteUrl, branch: published.branch, commit, created: published.created } };
}

/**
 * Step 8: fast-forwards the remote's default branch to the verified commit and pushes
 * the tags made since (release, version). Never fails the build, which is done: a
 * refusal (a non-fast-forward) or an unreachable remote is reported in the details and
 * the events instead. Spread the result into the step's details:
 *   `...(await promoteCompleted({ build, droplet, providers, progress }, needs.verifier.commit))`
 */
export async function promoteCompleted(
  context: Pick<PublishContext, 'build' | 'droplet' | 'providers'> & Partial<Pick<PublishContext, 'progress'>>,
  commit: string,
): Promise<{ repository?: Record<string, unknown> }> {
  // Without `progress` the outcome is still journaled: step.completed carries the details.
  const { build, droplet, providers, progress = () => {} } = context;
  if (!providers.publisher) return {};
  const repositoryPath = providers.workspace.repoFor(droplet).path;
  try {
    const promoted = await providers.publisher.promote(droplet, repositoryPath, build.id, commit);
    progress(`fast-forwarded ${promoted.branch} at ${promoted.remoteUrl} to ${commit.slice(0, 12)}`, {
      remote_url: promoted.remoteUrl,
      branch: promoted.branch,
      commit,
      ...listedTags(promoted.tags),
    });
    return { repository: { remote_url: promoted.remoteUrl, default_branch: promoted.branch, commit, promoted: true, ...listedTags(promoted.tags) } };
  } catch (error) {
    const failure = asPublishFailure(error);
    progress(`the default branch was not promoted: ${failure.message}`, { commit, code: failure.code, promoted: false });
    return { repository: { commit, promoted: false, error: { code: failure.code, message: failure.message } } };
  }
}
