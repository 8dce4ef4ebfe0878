/** The repository publisher the configuration asks for, or null (nothing is pushed). */
import { join } from 'node:path';
import type { RepositoryPublisher } from '../domain/ports/repository-publisher.js';
import { GitHubRepositories } from '../repo/github.js';
import { GitPublisher } from '../repo/publisher.js';
import { githubRemoteTemplate } from '../repo/remote.js';
import type { Config } from './config.js';

/**
 * GIT_REMOTE_URL_TEMPLATE names the remote; with GITHUB_TOKEN + GITHUB_OWNER alone it
 * defaults to the owner's repositories on that GitHub (`https://github.com/<owner>/{droplet}.git`).
 * A template that cannot name a remote stops the start-up.
 */
export function createPublisher(config: Config): RepositoryPublisher | null {
  const { GITHUB_TOKEN: token, GITHUB_OWNER: owner, GITHUB_API_URL: apiUrl } = config;
  const github = token && owner ? new GitHubRepositories({ token, owner, private: config.GITHUB_PRIVATE, ...(apiUrl ? { apiUrl } : {}) }) : null;
  const template = config.GIT_REMOTE_URL_TEMPLATE ?? (owner && github ? githubRemoteTemplate(owner, apiUrl) : undefined);
  if (!template) return null;
  return new GitPublisher({
    template,
    workDir: join(config.dataDir, 'publish'),
    github: github && token ? { repositories: github, token } : null,
  });
}
