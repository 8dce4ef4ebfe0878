/**
 * Publishing the repository through real builds: a local bare repository as the remote
 * (a branch per build, the executor's tags and no planted one, main fast-forwarded on
 * completion, again on a rebuild), and a fake GitHub Enterprise on loopback that creates
 * the repository and takes the push over http with the token, which appears nowhere the
 * executor writes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildView } from '../../src/domain/status.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import { FakeGitHub } from '../support/fake-github.js';

const TOKEN = 'ghp_integrationPublishToken9876543210zyx';
const TOKEN_HEADER = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

function git(gitDir: string, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } }).trim();
}

function refsOf(gitDir: string, prefix = 'refs/'): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const line of git(gitDir, 'for-each-ref', '--format=%(refname) %(objectname)', prefix).split('\n').filter(Boolean)) {
    const [ref, sha] = line.split(' ') as [string, string];
    refs[ref] = sha;
  }
  return refs;
}

/** Every log line the executor writes, unredacted: the token must never be handed to the logger at all. */
/** A commit of another history in `gitDir`, with `tags` on it; returns the commit. */
function plantForeignTags(gitDir: string, tags: readonly string[]): string {
  const run = (input: string, ...args: string[]) =>
    execFileSync('git', [`--git-dir=${gitDir}`, ...args], {
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' },
    }).trim();
  const blob = run('not for the remote\n', 'hash-object', '-w', '--stdin');
  const commit = run('', 'commit-tree', run(`100644 blob ${blob}\tsecret.txt\n`, 'mktree'), '-m', 'planted');
  for (const tag of tags) run('', 'tag', tag, commit);
  return commit;
}

function capturingLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function filesUnder(dir: string, skip: ReadonlySet<string> = new Set()): string[] {
  return readdirSync(dir).flatMap((entry) => {
    if (skip.has(entry)) return [];
    const full = join(dir, entry);
    return statSync(full).isDirectory() ? filesUnder(full, skip) : [full];
  });
}

function stepDetails(view: BuildView, step: string): Record<string, unknown> {
  return view.steps.find((s) => s.step === step)!.details;
}

describe('publishing to a local bare repository', () => {
  let server: TestExecutor;
  let remotes: string;

  beforeAll(async () => {
    remotes = mkdtempSync(join(tmpdir(), 'remotes-'));
    server = await startExecutor({ GIT_REMOTE_URL_TEMPLATE: join(remotes, '{droplet}.git') });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(remotes, { recursive: true, force: true });
  });

  it('pushes a branch per build with the tags, fast-forwards main on completion, and again on a rebuild', async () => {
    const firstId = await submitBuild(server.baseUrl, { architect_intent: 'Build Quote Keeper for memorable quotes', approval_mode: 'auto' });
    const first = await waitForStatus(server.baseUrl, firstId, ['completed']);
    const remote = join(remotes, `${first.droplet_name}.git`);
    expect(first.repository_url).toBe(pathToFileURL(remote).href);

    const verified = stepDetails(first, 'verifier').repository as { commit: string; branch: string; remote_url: string; created: boolean };
    expect(verified).toMatchObject({ branch: `builds/${firstId}`, remote_url: first.repository_url, created: true });
    expect(stepDetails(first, 'complete').repository).toMatchObject({ promoted: true, default_branch: 'main', commit: verified.commit });
    let refs = refsOf(remote);
    expect(refs[`refs/heads/builds/${firstId}`]).toBe(verified.commit);
    expect(refs['refs/heads/main']).toBe(verified.commit);
    // Every tag of the droplet's repository (the deploy's release tag, the registered version) is on the remote, on the same object.
    const localTags = refsOf(join(first.repository_path!, '.git'), 'refs/tags/');
    expect(Object.keys(localTags)).toContain(`refs/tags/release-${firstId}`);
    expect(refsOf(remote, 'refs/tags/')).toEqual(localTags);

    // Tags planted in the droplet's repository (generated code that can write .git) on a commit of another history never reach the remote.
    const dropletGit = join(first.repository_path!, '.git');
    const foreign = plantForeignTags(dropletGit, ['evil', 'v9.9.9']);
    const executorTags = () => Object.fromEntries(Object.entries(refsOf(dropletGit, 'refs/tags/')).filter(([ref]) => !['refs/tags/evil', 'refs/tags/v9.9.9'].includes(ref)));

    const secondId = await submitBuild(server.baseUrl, { architect_intent: 'Build Quote Keeper for memorable quotes', droplet_name: first.droplet_name, approval_mode: 'auto' });
    const second = await waitForStatus(server.baseUrl, secondId, ['completed']);
    expect(second.droplet_id).toBe(first.droplet_id);
    expect(second.repository_url).toBe(first.repository_url);
    const rebuilt = (stepDetails(second, 'verifier').repository as { commit: string; created: boolean });
    expect(rebuilt.created).toBe(false);
    expect(rebuilt.commit).not.toBe(verified.commit);
    refs = refsOf(remote);
    expect(refs['refs/heads/main']).toBe(rebuilt.commit);
    expect(refs[`refs/heads/builds/${firstId}`]).toBe(verified.commit);
    expect(refs[`refs/heads/builds/${secondId}`]).toBe(rebuilt.commit);
    // A fast-forward: the first build's commit is in the second's history.
    expect(() => git(remote, 'merge-base', '--is-ancestor', verified.commit, rebuilt.commit)).not.toThrow();
    expect(refsOf(remote, 'refs/tags/')).toEqual(executorTags());
    expect(Object.keys(executorTags())).toEqual(expect.arrayContaining([`refs/tags/release-${firstId}`, `refs/tags/release-${secondId}`]));
    expect(() => git(remote, 'cat-file', '-e', foreign)).toThrow();

    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${secondId}/events`)).body;
    const messages = events.filter((event) => event.type === 'step.progress').map((event) => (event.data as { message: string }).message);
    expect(messages).toContain(`pushed builds/${secondId} to ${first.repository_url}`);
  });
});

describe('publishing to GitHub (a fake GitHub Enterprise on loopback)', () => {
  let server: TestExecutor;
  let github: FakeGitHub;
  let root: string;
  const log = capturingLogger();

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'github-'));
    github = await new FakeGitHub({ root, token: TOKEN, login: 'architect' }).start();
    // No template: GITHUB_OWNER alone publishes to the owner's repositories on the GitHub GITHUB_API_URL belongs to.
    server = await startExecutor({ GITHUB_TOKEN: TOKEN, GITHUB_OWNER: 'acme', GITHUB_API_URL: github.apiUrl }, { logger: log.logger });
  });
  afterAll(async () => {
    await server?.close();
    await github?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('fails the verifier with a retryable PUBLISH_FAILED while GitHub is down, then creates the repository and pushes on retry; the token is nowhere', async () => {
    github.unavailable = true;
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Poll Booth for team votes', approval_mode: 'auto', auto_deploy: false });
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.current_step).toBe('verifier');
    expect(failed.error).toMatchObject({ code: 'PUBLISH_FAILED', retryable: true });
    expect(failed.error!.message).toBe(`GitHub answered 503 to GET /repos/acme/${failed.droplet_name} at ${github.apiUrl}: Service Unavailable`);

    github.unavailable = false;
    github.api.length = 0;
    expect((await api(server.baseUrl, `/executor/builds/${buildId}/retry`, { method: 'POST' })).status).toBe(202);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    const name = done.droplet_name;

    // The REST calls, under GitHub Enterprise's /api/v3, each with the token.
    expect(github.api.map(({ method, path }) => `${method} ${path}`)).toEqual([`GET /repos/acme/${name}`, 'GET /user', 'POST /orgs/acme/repos']);
    expect(github.api.every((request) => request.authorization === `token ${TOKEN}`)).toBe(true);
    expect(github.api[2]!.body).toEqual({ name, private: true, auto_init: false });
    // The pushes went over git's smart HTTP with the token as Basic x-access-token (the fake answers 401 otherwise).
    expect(github.git.length).toBeGreaterThan(0);
    expect(github.git.every((request) => request.authorization === `Basic ${TOKEN_HEADER}`)).toBe(true);

    expect(done.repository_url).toBe(`${github.url}/acme/${name}.git`);
    const remote = github.repositoryPath('acme', name);
    const verified = (stepDetails(done, 'verifier').repository as { commit: string; created: boolean });
    expect(verified.created).toBe(true);
    const refs = refsOf(remote);
    expect(refs[`refs/heads/builds/${buildId}`]).toBe(verified.commit);
    expect(refs['refs/heads/main']).toBe(verified.commit);
    expect(refsOf(remote, 'refs/tags/')).toEqual(refsOf(join(done.repository_path!, '.git'), 'refs/tags/'));

    // The token (and its Basic form) is in no status, event, log line, repository file or database page.
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body;
    const seen = [JSON.stringify(done), JSON.stringify(failed), JSON.stringify(events), log.lines.join('')];
    expect(log.lines.length).toBeGreaterThan(0);
    for (const text of seen) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(TOKEN_HEADER);
    }
    const written = [
      ...filesUnder(done.repository_path!, new Set(['node_modules'])),
      ...filesUnder(remote),
      ...readdirSync(server.dataDir).filter((entry) => entry.startsWith('executor.db')).map((entry) => join(server.dataDir, entry)),
    ];
    expect(written.some((file) => file.endsWith(join('.git', 'config')))).toBe(true);
    for (const file of written) {
      const bytes = readFileSync(file);
      expect(bytes.includes(TOKEN), file).toBe(false);
      expect(bytes.includes(TOKEN_HEADER), file).toBe(false);
    }
    for (const gitDir of [join(done.repository_path!, '.git'), remote]) expect(git(gitDir, 'log', '--all', '-p')).not.toContain(TOKEN);
  });
});
