/**
 * The publisher against real git: a local bare repository as the remote, and a fake
 * GitHub on loopback (REST + git smart HTTP) that checks the token and the request shapes.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { traitsOf } from '../../src/domain/error-codes.js';
import { GitHubRepositories } from '../../src/repo/github.js';
import { GitPublisher } from '../../src/repo/publisher.js';
import { authorizationHeader } from '../../src/repo/remote.js';
import { GitWorkspace, type GitDropletRepo } from '../../src/repo/repo.js';
import { promoteCompleted } from '../../src/pipeline/steps/publish.js';
import type { Providers } from '../../src/pipeline/types.js';
import { FakeGitHub } from '../support/fake-github.js';

const TOKEN = 'ghp_publisherUnitTestToken0123456789abcd';
const droplet = { dropletId: 3, name: 'quote-keeper' };

function git(gitDir: string, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } }).trim();
}

const IDENTITY = { GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' };

/** git with an identity and stdin, its stderr kept out of the test output. */
function gitWith(gitDir: string, input: string, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', ...IDENTITY },
  }).trim();
}

/** A commit sharing no history with the droplet's: what a planted tag could carry to the remote. */
function unrelatedCommit(gitDir: string, content: string): string {
  const blob = gitWith(gitDir, content, 'hash-object', '-w', '--stdin');
  const tree = gitWith(gitDir, `100644 blob ${blob}\tsecret.txt\n`, 'mktree');
  return gitWith(gitDir, '', 'commit-tree', tree, '-m', 'not the droplet history');
}

function hasObject(gitDir: string, sha: string): boolean {
  try {
    gitWith(gitDir, '', 'cat-file', '-e', sha);
    return true;
  } catch {
    return false;
  }
}

function tagsOf(gitDir: string): string[] {
  return Object.keys(refsOf(gitDir)).filter((ref) => ref.startsWith('refs/tags/')).sort();
}

function refsOf(gitDir: string): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const line of git(gitDir, 'for-each-ref', '--format=%(refname) %(objectname)').split('\n').filter(Boolean)) {
    const [ref, sha] = line.split(' ') as [string, string];
    refs[ref] = sha;
  }
  return refs;
}

/** Every byte under `dir` (configs, refs, packs) and the text of every commit: the token must be in none. */
function assertTokenAbsent(dir: string, gitDir: string): void {
  const walk = (at: string): string[] => readdirSync(at).flatMap((entry) => (statSync(join(at, entry)).isDirectory() ? walk(join(at, entry)) : [join(at, entry)]));
  const header = authorizationHeader(TOKEN).split(' ').pop()!;
  for (const file of walk(dir)) {
    const bytes = readFileSync(file);
    expect(bytes.includes(TOKEN), file).toBe(false);
    expect(bytes.includes(header), file).toBe(false);
  }
  const history = git(gitDir, 'log', '--all', '-p', '--format=%H %B');
  expect(history).not.toContain(TOKEN);
}

let root: string;
let workspace: GitWorkspace;
let repo: GitDropletRepo;

async function commit(file: string, content: string): Promise<string> {
  const made = await repo.commitChanges([{ kind: 'write', path: file, content }], `add ${file}`, { step: 'test', buildId: 'b' });
  return made!.sha;
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'publisher-'));
  workspace = new GitWorkspace({ reposDir: join(root, 'repos') });
  repo = workspace.repoFor(droplet);
  await repo.ensure();
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('GitPublisher with a local bare repository', () => {
  const template = () => join(root, 'remotes', '{droplet}.git');
  const remoteDir = () => join(root, 'remotes', 'quote-keeper.git');

  it('creates the bare repository, pushes the build branch with the tags, and fast-forwards main on promote', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const first = await commit('README.md', '# one\n');
    await repo.tag('release-build-1', 'first release');

    const published = await publisher.publishBuild(droplet, repo.path, 'build-1', first);
    expect(published).toEqual({ remoteUrl: pathToFileURL(remoteDir()).href, branch: 'builds/build-1', created: true });
    const afterPublish = refsOf(remoteDir());
    expect(afterPublish['refs/heads/builds/build-1']).toBe(first);
    expect(git(remoteDir(), 'rev-parse', 'refs/tags/release-build-1^{commit}')).toBe(first);
    // main is promoted only on completion.
    expect(afterPublish['refs/heads/main']).toBeUndefined();
    expect(git(remoteDir(), 'rev-parse', '--is-bare-repository')).toBe('true');

    const promoted = await publisher.promote(droplet, repo.path, 'build-1', first);
    expect(promoted).toEqual({ remoteUrl: pathToFileURL(remoteDir()).href, branch: 'main', tags: ['release-build-1'] });
    expect(refsOf(remoteDir())['refs/heads/main']).toBe(first);

    // A rebuild: its commit descends from the first, so main moves again.
    const second = await commit('src/app.js', 'export {};\n');
    await repo.tag('v1.1.0', 'version');
    expect((await publisher.publishBuild(droplet, repo.path, 'build-2', second)).created).toBe(false);
    await publisher.promote(droplet, repo.path, 'build-2', second);
    const refs = refsOf(remoteDir());
    expect(refs['refs/heads/main']).toBe(second);
    expect(refs['refs/heads/builds/build-1']).toBe(first);
    expect(refs['refs/heads/builds/build-2']).toBe(second);
    expect(Object.keys(refs).filter((ref) => ref.startsWith('refs/tags/')).sort()).toEqual(['refs/tags/release-build-1', 'refs/tags/v1.1.0']);
    // The throwaway publishing repositories are gone.
    expect(readdirSync(join(root, 'publish'))).toEqual([]);
  });

  it('refuses a non-fast-forward of the default branch, leaves it as it was, and still pushes the build branch', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const first = await commit('README.md', '# one\n');
    await publisher.publishBuild(droplet, repo.path, 'build-1', first);
    await publisher.promote(droplet, repo.path, 'build-1', first);
    // Someone pushed to main meanwhile: a commit the droplet's history does not have.
    const tree = git(remoteDir(), 'rev-parse', `${first}^{tree}`);
    const foreign = execFileSync('git', [`--git-dir=${remoteDir()}`, 'commit-tree', tree, '-p', first, '-m', 'hotfix on the remote'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' },
    }).trim();
    git(remoteDir(), 'update-ref', 'refs/heads/main', foreign);

    const second = await commit('src/app.js', 'export {};\n');
    const refused = await publisher.promote(droplet, repo.path, 'build-2', second).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StepError);
    const error = refused as StepError;
    expect(error.code).toBe('PUBLISH_FAILED');
    expect(traitsOf(error.code).retryable).toBe(true);
    expect(error.message).toMatch(/not a fast-forward.*never forced/);
    expect(error.details).toMatchObject({ branch: 'main', commit: second, non_fast_forward: true });
    const refs = refsOf(remoteDir());
    expect(refs['refs/heads/main']).toBe(foreign);
    expect(refs['refs/heads/builds/build-2']).toBe(second);
  });

  it('uses the branch the remote repository names as its HEAD', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=trunk', remoteDir()]);
    const first = await commit('README.md', '# one\n');
    expect((await publisher.publishBuild(droplet, repo.path, 'build-1', first)).created).toBe(false);
    expect((await publisher.promote(droplet, repo.path, 'build-1', first)).branch).toBe('trunk');
    expect(refsOf(remoteDir())['refs/heads/trunk']).toBe(first);
  });

  it('ignores what the droplet repository’s own .git/config says about remotes (it is untrusted)', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const first = await commit('README.md', '# one\n');
    // Were the push run in the droplet's repository, this would send it elsewhere.
    appendFileSync(join(repo.path, '.git', 'config'), `[url "${join(root, 'elsewhere')}/"]\n\tinsteadOf = ${join(root, 'remotes')}/\n`);
    await publisher.publishBuild(droplet, repo.path, 'build-1', first);
    expect(refsOf(remoteDir())['refs/heads/builds/build-1']).toBe(first);
  });

  it('pushes only the executor’s own tags on the pushed commit’s history, never a tag planted on another commit', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const gitDir = join(repo.path, '.git');
    const first = await commit('README.md', '# one\n');
    await repo.tag('v1.0.0', 'version', first);
    const second = await commit('src/app.js', 'export {};\n');
    await repo.tag('release-build-2', 'release');
    // What generated code that can write .git could plant: the executor's tag names on a foreign commit, other names on ours.
    const foreign = unrelatedCommit(gitDir, 'not for the remote\n');
    gitWith(gitDir, '', 'tag', 'evil', foreign);
    gitWith(gitDir, '', 'tag', '-a', '-m', 'planted', 'v9.9.9', foreign);
    gitWith(gitDir, '', 'tag', 'release-planted', foreign);
    gitWith(gitDir, '', 'tag', 'not-ours', second);

    await publisher.publishBuild(droplet, repo.path, 'build-2', second);
    expect(tagsOf(remoteDir())).toEqual(['refs/tags/release-build-2', 'refs/tags/v1.0.0']);
    const promoted = await publisher.promote(droplet, repo.path, 'build-2', second);
    expect(promoted.tags).toEqual(['release-build-2', 'v1.0.0']);
    expect(tagsOf(remoteDir())).toEqual(['refs/tags/release-build-2', 'refs/tags/v1.0.0']);
    expect(git(remoteDir(), 'rev-parse', 'refs/tags/v1.0.0^{commit}')).toBe(first);
    expect(hasObject(remoteDir(), foreign)).toBe(false);
  });

  it('refuses to publish objects that may come from outside the droplet’s own .git/objects', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const gitDir = join(repo.path, '.git');
    const objects = join(gitDir, 'objects');
    const first = await commit('README.md', '# one\n');
    const refused = async (what: RegExp): Promise<void> => {
      const error = await publisher.publishBuild(droplet, repo.path, 'build-1', first).then(
        () => null,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(StepError);
      expect((error as StepError).code).toBe('PUBLISH_FAILED');
      expect((error as StepError).message).toMatch(what);
    };

    // A symlinked objects directory.
    renameSync(objects, join(root, 'moved-objects'));
    symlinkSync(join(root, 'moved-objects'), objects);
    await refused(/\.git\/objects is a symbolic link; refusing to publish/);
    unlinkSync(objects);
    renameSync(join(root, 'moved-objects'), objects);

    // Alternates lending another repository's objects (a planted tag reaches them).
    const other = join(root, 'other.git');
    execFileSync('git', ['init', '--quiet', '--bare', other]);
    const foreign = unrelatedCommit(other, 'another droplet’s code\n');
    writeFileSync(join(objects, 'info', 'alternates'), `${join(other, 'objects')}\n`);
    gitWith(gitDir, '', 'tag', 'v9.9.9', foreign);
    await refused(/\.git\/objects\/info\/alternates exists/);
    gitWith(gitDir, '', 'tag', '-d', 'v9.9.9');
    unlinkSync(join(objects, 'info', 'alternates'));

    // A pack that is a link to a file elsewhere.
    gitWith(gitDir, '', 'repack', '-a', '-d', '-q');
    const pack = readdirSync(join(objects, 'pack')).find((file) => file.endsWith('.pack'))!;
    renameSync(join(objects, 'pack', pack), join(root, pack));
    symlinkSync(join(root, pack), join(objects, 'pack', pack));
    await refused(/\.git\/objects\/pack\/pack-[0-9a-f]+\.pack is a symbolic link/);
    unlinkSync(join(objects, 'pack', pack));
    renameSync(join(root, pack), join(objects, 'pack', pack));

    // .git itself a link.
    renameSync(gitDir, join(root, 'moved-git'));
    symlinkSync(join(root, 'moved-git'), gitDir);
    await refused(/\.git is a symbolic link/);
    unlinkSync(gitDir);
    renameSync(join(root, 'moved-git'), gitDir);

    expect(Object.keys(refsOf(remoteDir()))).toEqual([]);
    // Put back as it was, the same repository publishes.
    await publisher.publishBuild(droplet, repo.path, 'build-1', first);
    expect(refsOf(remoteDir())['refs/heads/builds/build-1']).toBe(first);
    expect(hasObject(remoteDir(), foreign)).toBe(false);
  });

  it('names a tag the remote holds on another object, never overwrites it, and still pushes the branch', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const gitDir = join(repo.path, '.git');
    const first = await commit('README.md', '# one\n');
    await repo.tag('v1.0.0', 'version', first);
    await publisher.publishBuild(droplet, repo.path, 'build-1', first);
    const theirs = refsOf(remoteDir())['refs/tags/v1.0.0'];
    // The droplet's v1.0.0 is now another tag object (a wiped executor that built the droplet again, say).
    gitWith(gitDir, '', 'tag', '-d', 'v1.0.0');
    await repo.tag('v1.0.0', 'version, again', first);
    const second = await commit('src/app.js', 'export {};\n');

    const failed = (await publisher.publishBuild(droplet, repo.path, 'build-2', second).catch((error: unknown) => error)) as StepError;
    expect(failed).toBeInstanceOf(StepError);
    expect(failed.code).toBe('PUBLISH_FAILED');
    expect(failed.message).toBe(
      `The remote ${pathToFileURL(remoteDir()).href} already has tag v1.0.0 on another object than the droplet's tag of that name: not overwritten (never forced); delete or rename it on the remote to publish it.`,
    );
    expect(failed.details).toMatchObject({ conflicting_tags: ['v1.0.0'], conflicting_tag_count: 1 });
    const refs = refsOf(remoteDir());
    expect(refs['refs/tags/v1.0.0']).toBe(theirs);
    expect(refs['refs/heads/builds/build-2']).toBe(second);
  });

  it('lists at most 20 of the pushed tags in the completion step’s details and events, with their count', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const first = await commit('README.md', '# one\n');
    gitWith(join(repo.path, '.git'), Array.from({ length: 25 }, (_, i) => `create refs/tags/v1.${i}.0 ${first}\n`).join(''), 'update-ref', '--stdin');
    const events: Array<Record<string, unknown> | undefined> = [];
    const details = await promoteCompleted(
      { build: { id: 'build-1' } as never, droplet, providers: { publisher, workspace } as unknown as Providers, progress: (_message, data) => events.push(data) },
      first,
    );
    expect(tagsOf(remoteDir())).toHaveLength(25);
    expect(details.repository).toMatchObject({ promoted: true, tag_count: 25 });
    expect((details.repository!.tags as string[])).toHaveLength(20);
    expect(events[0]).toMatchObject({ tag_count: 25 });
    expect(events[0]!.tags as string[]).toHaveLength(20);
  });

  it('refuses a build id that cannot name a branch and a value that is not a commit', async () => {
    const publisher = new GitPublisher({ template: template(), workDir: join(root, 'publish') });
    const first = await commit('README.md', '# one\n');
    await expect(publisher.publishBuild(droplet, repo.path, '../main', first)).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
    await expect(publisher.publishBuild(droplet, repo.path, 'build-1', 'HEAD')).rejects.toMatchObject({ code: 'PUBLISH_FAILED' });
  });

  it('refuses, at construction, a template that names no usable remote', () => {
    expect(() => new GitPublisher({ template: 'https://user:secret@example.com/{droplet}.git', workDir: root })).toThrow(/credentials/);
    expect(() => new GitPublisher({ template: 'relative/{droplet}.git', workDir: root })).toThrow(/absolute path/);
  });
});

describe('GitPublisher with GitHub (a fake GitHub Enterprise on loopback)', () => {
  let github: FakeGitHub;
  let other: FakeGitHub | undefined;

  afterEach(async () => {
    await github?.close();
    await other?.close();
    other = undefined;
  });

  function publisherFor(options: { token?: string; owner?: string; private?: boolean; template?: string } = {}): GitPublisher {
    const repositories = new GitHubRepositories({ token: options.token ?? TOKEN, owner: options.owner ?? 'acme', apiUrl: github.apiUrl, private: options.private ?? true });
    return new GitPublisher({
      template: options.template ?? `${github.url}/${options.owner ?? 'acme'}/{droplet}.git`,
      workDir: join(root, 'publish'),
      github: { repositories, token: options.token ?? TOKEN },
    });
  }

  it('creates the missing repository in the organisation, then pushes over http with the token in a header', async () => {
    github = await new FakeGitHub({ root: join(root, 'github'), token: TOKEN, login: 'architect' }).start();
    const publisher = publisherFor();
    const first = await commit('README.md', '# one\n');
    await repo.tag('release-build-1', 'release');

    const published = await publisher.publishBuild(droplet, repo.path, 'build-1', first);
    expect(published).toEqual({ remoteUrl: `${github.url}/acme/quote-keeper.git`, branch: 'builds/build-1', created: true });
    // GitHub Enterprise's base URL is honoured: every call went under /api/v3, with the token.
    expect(github.api.map(({ method, path }) => `${method} ${path}`)).toEqual(['GET /repos/acme/quote-keeper', 'GET /user', 'POST /orgs/acme/repos']);
    expect(github.api.every((request) => request.authorization === `token ${TOKEN}`)).toBe(true);
    expect(github.api[2]!.body).toEqual({ name: 'quote-keeper', private: true, auto_init: false });
    // The push itself authenticated with Basic x-access-token (the fake refuses anything else).
    expect(github.git.length).toBeGreaterThan(0);
    expect(github.git.every((request) => request.authorization === `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`)).toBe(true);
    const remote = github.repositoryPath('acme', 'quote-keeper');
    expect(refsOf(remote)['refs/heads/builds/build-1']).toBe(first);

    // Known now: promote asks GitHub nothing more, and takes GitHub's default branch (an empty repository advertises none).
    const promoted = await publisher.promote(droplet, repo.path, 'build-1', first);
    expect(promoted).toEqual({ remoteUrl: `${github.url}/acme/quote-keeper.git`, branch: 'main', tags: ['release-build-1'] });
    expect(github.api).toHaveLength(3);
    expect(refsOf(remote)['refs/heads/main']).toBe(first);
    expect(git(remote, 'rev-parse', 'refs/tags/release-build-1^{commit}')).toBe(first);
    assertTokenAbsent(repo.path, join(repo.path, '.git'));
    assertTokenAbsent(remote, remote);
    expect(readdirSync(join(root, 'publish'))).toEqual([]);
  });

  it("creates it for the token's user when the owner is that user, public when GITHUB_PRIVATE=false", async () => {
    github = await new FakeGitHub({ root: join(root, 'github'), token: TOKEN, login: 'Architect' }).start();
    const publisher = publisherFor({ owner: 'architect', private: false });
    const first = await commit('README.md', '# one\n');
    await publisher.publishBuild(droplet, repo.path, 'build-1', first);
    expect(github.api.map(({ method, path }) => `${method} ${path}`)).toEqual(['GET /repos/architect/quote-keeper', 'GET /user', 'POST /user/repos']);
    expect(github.api[2]!.body).toEqual({ name: 'quote-keeper', private: false, auto_init: false });
  });

  it('creates nothing when the repository exists', async () => {
    github = await new FakeGitHub({ root: join(root, 'github'), token: TOKEN, login: 'architect', existing: ['acme/quote-keeper'] }).start();
    const first = await commit('README.md', '# one\n');
    expect((await publisherFor().publishBuild(droplet, repo.path, 'build-1', first)).created).toBe(false);
    expect(github.api.map(({ method, path }) => `${method} ${path}`)).toEqual(['GET /repos/acme/quote-keeper']);
  });

  it("fails with PUBLISH_FAILED naming GitHub's answer when the token is refused", async () => {
    github = await new FakeGitHub({ root: join(root, 'github'), token: TOKEN, login: 'architect' }).start();
    const first = await commit('README.md', '# one\n');
    const failed = (await publisherFor({ token: 'ghp_wrong' }).publishBuild(droplet, repo.path, 'build-1', first).catch((error: unknown) => error)) as StepError;
    expect(failed).toBeInstanceOf(StepError);
    expect(failed.code).toBe('PUBLISH_FAILED');
    expect(failed.message).toBe(`GitHub answered 401 to GET /repos/acme/quote-keeper at ${github.apiUrl}: Bad credentials`);
    expect(failed.details).toMatchObject({ status: 401 });
  });

  it('makes the remote’s words printable: no escape sequence or control character from its `remote:` lines reaches the failure', async () => {
    github = await new FakeGitHub({ root: join(root, 'github'), token: TOKEN, login: 'architect', existing: ['acme/quote-keeper'] }).start();
    const hook = join(github.repositoryPath('acme', 'quote-keeper'), 'hooks', 'pre-receive');
    mkdirSync(join(hook, '..'), { recursive: true });
    writeFileSync(hook, "#!/bin/sh\nprintf '\\033[2J\\033]0;pwned\\007refused by\\tpolicy\\r\\n\\001\\177second line\\n' >&2\nexit 1\n", { mode: 0o755 });
    const first = await commit('README.md', '# one\n');
    const failed = (await publisherFor().publishBuild(droplet, repo.path, 'build-1', first).catch((error: unknown) => error)) as StepError;
    expect(failed).toBeInstanceOf(StepError);
    expect(failed.code).toBe('PUBLISH_FAILED');
    expect(failed.message).toContain('remote: refused by policy');
    expect(failed.message).toContain('second line');
    const reported = [failed.message, ...((failed.details?.refused as string[]) ?? [])];
    for (const text of reported) {
      // eslint-disable-next-line no-control-regex -- control characters are what must be absent
      expect(text).not.toMatch(/[\x00-\x1f\x7f]/);
      expect(text).not.toContain('pwned');
      expect(text).not.toContain('[2J');
    }
  });

  it('never sends the token to a remote on another host than the GitHub it belongs to', async () => {
    github = await new FakeGitHub({ root: join(root, 'github'), token: TOKEN, login: 'architect', existing: ['acme/quote-keeper'] }).start();
    other = await new FakeGitHub({ root: join(root, 'other'), token: TOKEN, login: 'architect', existing: ['acme/quote-keeper'] }).start();
    const first = await commit('README.md', '# one\n');
    const publisher = publisherFor({ template: `${other.url}/acme/{droplet}.git` });
    const failed = (await publisher.publishBuild(droplet, repo.path, 'build-1', first).catch((error: unknown) => error)) as StepError;
    expect(failed.code).toBe('PUBLISH_FAILED');
    expect(failed.message).toContain(`${other.url}/acme/quote-keeper.git`);
    expect(other.git.length).toBeGreaterThan(0);
    expect(other.git.every((request) => request.authorization === null)).toBe(true);
    expect(failed.message).not.toContain(TOKEN);
  });
});

describe('GitHubRepositories with a GitHub that answers oddly', () => {
  let server: Server;
  let apiUrl: string;

  beforeEach(async () => {
    server = createServer((req, res) => {
      const answers: Record<string, [number, unknown]> = {
        '/repos/acme/quote-keeper': [200, { name: 'quote-keeper', default_branch: 'main:refs/heads/elsewhere' }],
        '/repos/acme/odd': [200, { name: 'odd', default_branch: '--upload-pack=x' }],
        '/repos/acme/broken': [401, { message: 'Bad \x1b[31mcredentials\r\nremote: forged\x00 line\x07' }],
      };
      const [status, body] = answers[req.url ?? ''] ?? [404, { message: 'Not Found' }];
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('takes a default branch that is no plain branch name as none given', async () => {
    const repositories = new GitHubRepositories({ token: TOKEN, owner: 'acme', apiUrl, private: true });
    expect(await repositories.ensure('quote-keeper')).toEqual({ created: false, defaultBranch: null });
    expect(await repositories.ensure('odd')).toEqual({ created: false, defaultBranch: null });
  });

  it("strips escape sequences and control characters from GitHub's message", async () => {
    const repositories = new GitHubRepositories({ token: TOKEN, owner: 'acme', apiUrl, private: true });
    const failed = (await repositories.ensure('broken').catch((error: unknown) => error)) as StepError;
    expect(failed.code).toBe('PUBLISH_FAILED');
    expect(failed.message).toBe(`GitHub answered 401 to GET /repos/acme/broken at ${apiUrl}: Bad credentials remote: forged line`);
  });
});
