/** Publishing droplet repositories to a remote (GIT_REMOTE_URL_TEMPLATE; GitHub creates missing ones). */
import type { DropletIdentity } from '../build.js';

export interface PublishedBranch {
  /** The remote as people clone it (never with credentials). */
  remoteUrl: string;
  /** `builds/<build id>`. */
  branch: string;
  /** The repository was created for this push (GitHub REST, or a new bare repository). */
  created: boolean;
}

export interface RepositoryPublisher {
  /** Pushes the verified commit as the build's branch (creating the remote repository when missing), with the executor's own tags on its history (release-…, v…) as explicit refspecs. */
  publishBuild(droplet: DropletIdentity, repositoryPath: string, buildId: string, commit: string): Promise<PublishedBranch>;
  /** On completion: tags pushed and the default branch fast-forwarded to the build's commit. */
  promote(droplet: DropletIdentity, repositoryPath: string, buildId: string, commit: string): Promise<{ remoteUrl: string; branch: string; tags: string[] }>;
}
