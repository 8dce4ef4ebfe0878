/**
 * Publishes droplet repositories to their remote (GIT_REMOTE_URL_TEMPLATE): the build's
 * branch `builds/<build id>` and the tags after verification, the default branch
 * fast-forwarded on completion (a non-fast-forward is refused, never forced).
 *
 * Only the executor's own tags on the pushed commit's history are pushed, as explicit
 * refspecs, and only objects of the droplet's own `.git/objects` (publish-source.ts).
 *
 * Pushes never run in the droplet's repository: its `.git/config` is untrusted, and push
 * reads many keys that could run a program or redirect credentials (`core.sshCommand`,
 * `url.<x>.insteadOf`, `credential.helper`, `remote.<x>.receivepack`…). Each push runs
 * from a throwaway bare repository the executor makes and configures itself, which
 * borrows the droplet's objects (objects/info/alternates) and a copy of those tags.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DropletIdentity } from '../domain/build.js';
import { StepError } from '../domain/errors.js';
import type { PublishedBranch, RepositoryPublisher } from '../domain/ports/repository-publisher.js';
import { bareRepository, GitCommandError, hasGitDirectory, initBareRepository, openRepository, type GitRunner } from './git.js';
import type { GitHubRepositories } from './github.js';
import { assertOwnObjects, BUILD_ID, copyTags, ownTags, tagRefspecs, type OwnTag } from './publish-source.js';
import { checkRemoteTemplate, credentialEnvironment, githubWebOrigin, isBranchName, printable, renderRemote, sshEnvironment, type PublishRemote } from './remote.js';

export interface GitPublisherOptions {
  /** GIT_REMOTE_URL_TEMPLATE, with `{droplet}`. */
  template: string;
  /** Where the throwaway publishing repositories are made (`${DATA_DIR}/publish`). */
  workDir: string;
  /** With GITHUB_TOKEN + GITHUB_OWNER: creates missing repositories, and its token authenticates https pushes to its host. */
  github?: { repositories: GitHubRepositories; token: string } | null;
}

const COMMIT = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const FALLBACK_BRANCH = 'main';
/** At most this many refused refs or conflicting tags are listed in a failure's details. */
const LISTED = 20;
/** Only these transports, whatever a remote URL says (no `ext::`, no `fd::`). */
const PUSH_CONFIG = [
  'protocol.allow=never',
  ...['file', 'https', 'http', 'ssh'].map((name) => `protocol.${name}.allow=always`),
  // A redirect could carry the Authorization header to another host.
  'http.followRedirects=false',
  'credential.helper=',
  'push.followTags=false',
  'push.gpgSign=false',
];

function assertBuild(buildId: string, commit: string): void {
  if (!BUILD_ID.test(buildId) || buildId.includes('..') || buildId.endsWith('.lock')) {
    throw new StepError('PUBLISH_FAILED', `"${printable(buildId, 200)}" cannot name a branch.`, { build_id: printable(buildId, 200) });
  }
  if (!COMMIT.test(commit)) throw new StepError('PUBLISH_FAILED', `"${printable(commit, 80)}" is not a commit id.`, { commit: printable(commit, 80) });
}

/** One of git's refusal lines (`! [rejected] <src> -> <dst> (<why>)`) and the ref it names. */
interface Refusal {
  line: string;
  ref: string;
  /** Refused by git itself from what the remote advertised (`[rejected]`), not by the server (`[remote rejected]`). */
  local: boolean;
}

function refusals(stderr: string): Refusal[] {
  return stderr
    .split('\n')
    .filter((line) => /^\s*!\s/.test(line))
    .map((line) => ({ line: printable(line, 300), ref: /->\s+(\S+)/.exec(line)?.[1] ?? '', local: /^\s*!\s+\[rejected\]/.test(line) }));
}

/** What one push sends, so that its refusal can name the refs: the tags, and the branch promote fast-forwards. */
interface PushPlan {
  what: string;
  tags: readonly OwnTag[];
  branch?: string;
  commit: string;
}

function tagConflict(remote: PublishRemote, names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
  const one = names.length === 1;
  return `The remote ${remote.url} already has ${one ? 'tag' : 'tags'} ${shown} on another object than the droplet's ${one ? 'tag' : 'tags'} of that name: not overwritten (never forced); delete or rename ${one ? 'it' : 'them'} on the remote to publish ${one ? 'it' : 'them'}.`;
}

function pushFailure(remote: PublishRemote, error: unknown, plan: PushPlan): StepError {
  if (error instanceof StepError) return error;
  const stderr = error instanceof GitCommandError ? error.stderr : String(error);
  const refused = refusals(stderr);
  const tagNames = new Set(plan.tags.map((tag) => tag.name));
  const conflicting = refused.filter((r) => r.local && tagNames.has(r.ref)).map((r) => r.ref);
  const nonFastForward = plan.branch !== undefined && refused.some((r) => r.ref === plan.branch && /non-fast-forward|fetch first/.test(r.line));
  const others = refused.length > conflicting.length + (nonFastForward ? 1 : 0) || refused.length === 0;
  const lines = stderr.split('\n').filter((line) => line.trim() && !/^hint:/.test(line));
  const sentences = [
    nonFastForward &&
      `The remote's ${plan.branch} at ${remote.url} has commits that ${plan.commit.slice(0, 12)} does not descend from: not a fast-forward, so ${plan.branch} was left as it is (never forced).`,
    conflicting.length > 0 && tagConflict(remote, conflicting),
    others && `Pushing ${plan.what} to ${remote.url} failed: ${printable(lines.slice(0, 6).join('\n'), 600)}`,
  ].filter((sentence): sentence is string => typeof sentence === 'string');
  return new StepError('PUBLISH_FAILED', sentences.join(' '), {
    remote: remote.url,
    refused: refused.slice(0, LISTED).map((r) => r.line),
    ...(refused.length > LISTED && { refused_count: refused.length }),
    ...(conflicting.length > 0 && { conflicting_tags: conflicting.slice(0, LISTED), conflicting_tag_count: conflicting.length }),
    ...(nonFastForward && { branch: plan.branch, commit: plan.commit, non_fast_forward: true }),
  });
}

/** Pushes exactly `refspecs` plus the plan's tags (explicit refspecs, unforced), failing with what was refused. */
async function push(git: GitRunner, remote: PublishRemote, refspecs: readonly string[], plan: PushPlan): Promise<void> {
  await git.run(['push', '--quiet', '--', remote.target, ...refspecs, ...tagRefspecs(plan.tags)]).catch((error: unknown) => {
    throw pushFailure(remote, error, plan);
  });
}

export class GitPublisher implements RepositoryPublisher {
  private cleared: Promise<void> | undefined;

  constructor(private readonly options: GitPublisherOptions) {
    checkRemoteTemplate(options.template);
  }

  async publishBuild(droplet: DropletIdentity, repositoryPath: string, buildId: string, commit: string): Promise<PublishedBranch> {
    assertBuild(buildId, commit);
    const remote = renderRemote(this.options.template, droplet.name);
    const { created } = await this.ensureRemote(droplet, remote);
    const branch = `builds/${buildId}`;
    await this.withMirror(repositoryPath, remote, commit, async (git, tags) => {
      await push(git, remote, [`${commit}:refs/heads/${branch}`], { what: `branch ${branch}`, tags, commit });
    });
    return { remoteUrl: remote.url, branch, created };
  }

  async promote(droplet: DropletIdentity, repositoryPath: string, buildId: string, commit: string): Promise<{ remoteUrl: string; branch: string; tags: string[] }> {
    assertBuild(buildId, commit);
    const remote = renderRemote(this.options.template, droplet.name);
    const { defaultBranch } = await this.ensureRemote(droplet, remote);
    return this.withMirror(repositoryPath, remote, commit, async (git, tags) => {
      const branch = (await this.remoteDefaultBranch(git, remote)) ?? defaultBranch ?? FALLBACK_BRANCH;
      // No `+`: git refuses to move the branch unless the commit descends from it.
      const refspecs = [`${commit}:refs/heads/builds/${buildId}`, `${commit}:refs/heads/${branch}`];
      await push(git, remote, refspecs, { what: `${branch} (fast-forward to ${commit.slice(0, 12)})`, tags, branch, commit });
      return { remoteUrl: remote.url, branch, tags: tags.map((tag) => tag.name) };
    });
  }

  /** A missing path remote becomes a new bare repository; on GitHub, a missing repository is created. */
  private async ensureRemote(droplet: DropletIdentity, remote: PublishRemote): Promise<{ created: boolean; defaultBranch: string | null }> {
    const github = await this.options.github?.repositories.ensure(droplet.name);
    if (remote.kind !== 'path') return { created: github?.created ?? false, defaultBranch: github?.defaultBranch ?? null };
    const entries = await readdir(remote.target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw new StepError('PUBLISH_FAILED', `The remote ${remote.url} cannot be read: ${error.message}`, { remote: remote.url });
    });
    if (entries !== null && entries.length > 0) return { created: github?.created ?? false, defaultBranch: github?.defaultBranch ?? null };
    await mkdir(remote.target, { recursive: true });
    await initBareRepository(remote.target);
    return { created: true, defaultBranch: github?.defaultBranch ?? null };
  }

  /** What the remote's HEAD names; for a local bare repository read directly (an empty one does not advertise it). */
  private async remoteDefaultBranch(git: GitRunner, remote: PublishRemote): Promise<string | null> {
    try {
      const output =
        remote.kind === 'path'
          ? await bareRepository(remote.target).run(['symbolic-ref', '-q', 'HEAD'])
          : await git.run(['ls-remote', '--symref', '--', remote.target, 'HEAD']);
      const ref = /(?:^|\s)refs\/heads\/([A-Za-z0-9._/-]+)(?:\s|$)/.exec(output)?.[1];
      return ref !== undefined && isBranchName(ref) ? ref : null;
    } catch (error) {
      if (error instanceof GitCommandError) return null;
      throw error;
    }
  }

  /**
   * Runs `work` in a new bare repository that borrows the droplet's objects (refused when
   * they could come from elsewhere) and holds copies of the executor's tags on `commit`'s
   * history; the token (for its own host only) rides in the environment.
   */
  private async withMirror<T>(repositoryPath: string, remote: PublishRemote, commit: string, work: (git: GitRunner, tags: OwnTag[]) => Promise<T>): Promise<T> {
    await assertOwnObjects(repositoryPath);
    if (!(await hasGitDirectory(repositoryPath))) {
      throw new StepError('PUBLISH_FAILED', 'The droplet has no repository to publish yet.', { repository: repositoryPath });
    }
    const tags = await ownTags(await openRepository(repositoryPath), commit);
    await (this.cleared ??= this.clearWorkDir());
    const dir = await mkdtemp(path.join(this.options.workDir, 'push-'));
    try {
      await initBareRepository(dir);
      await writeFile(path.join(dir, 'objects', 'info', 'alternates'), `${path.resolve(repositoryPath, '.git', 'objects')}\n`);
      await copyTags(bareRepository(dir), tags);
      const github = this.options.github;
      const token = github ? { value: github.token, origin: githubWebOrigin(github.repositories.apiUrl) } : null;
      const env = { ...credentialEnvironment(remote, token), ...sshEnvironment(remote) };
      return await work(bareRepository(dir, { config: PUSH_CONFIG, env }), tags);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Throwaway repositories a killed executor left behind. */
  private async clearWorkDir(): Promise<void> {
    await rm(this.options.workDir, { recursive: true, force: true });
    await mkdir(this.options.workDir, { recursive: true, mode: 0o700 });
  }
}
