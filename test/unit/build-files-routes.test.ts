/**
 * The build file routes over loopback HTTP with the real BuildService, SQLite store and
 * git repositories in a temp dir (no build runs: the test commits as the steps would):
 * a build without a repository, or with none of its own commits yet, lists nothing;
 * binary and long files; only the build's own repair commits are repairs.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_TEXT_LIMIT } from '../../src/pipeline/build-files.js';
import { GitWorkspace, type GitDropletRepo } from '../../src/repo/repo.js';
import { api } from '../support/executor.js';
import { createTestApp, listen, type TestApp, TestBuilds } from '../support/http-app.js';

let base: string;
let test: TestApp;
let url: string;
let workspace: GitWorkspace;

beforeAll(async () => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'build-files-')));
  workspace = new GitWorkspace({ reposDir: base });
  const builds = new TestBuilds();
  // createTestApp wires the build file service over the same store, as the executor does.
  test = await createTestApp({ builds });
  url = await listen(test.app);
});

afterAll(async () => {
  await test?.app.close();
  rmSync(base, { recursive: true, force: true });
});

/** A queued build of a new droplet, and the repository its steps would commit to. */
async function submitted(name: string): Promise<{ buildId: string; repo: GitDropletRepo }> {
  const view = await test.builds.service.submit({ architectIntent: 'Build a notes service that stores notes', dropletName: name, approvalMode: 'auto', autoDeploy: false });
  return { buildId: view.build_id, repo: workspace.repoFor({ dropletId: view.droplet_id, name }) };
}

/** As step 3 does: the running build records where its repository is. */
async function placeRepository(buildId: string, repo: GitDropletRepo): Promise<void> {
  await test.builds.begin(buildId);
  await test.builds.store.setLocations(buildId, { repositoryPath: repo.path });
  expect((await test.builds.store.get(buildId))?.repositoryPath).toBe(repo.path);
}

const write = (file: string, content: string) => ({ kind: 'write' as const, path: file, content });

describe('build file routes', () => {
  it('list nothing while the build has no repository, or no commit of its own in it', async () => {
    const { buildId, repo } = await submitted('notes-api');
    expect((await api(url, `/executor/builds/${buildId}/files`)).body).toEqual({ commit: null, files: [] });
    expect((await api(url, `/executor/builds/${buildId}/repairs`)).body).toEqual({ repairs: [] });
    expect((await api(url, `/executor/builds/${buildId}/files/a.txt`)).status).toBe(404);

    // An earlier build's commit in the same repository is not this build's.
    await repo.commitChanges([write('a.txt', 'earlier\n')], 'feat: earlier', { step: 'apprentice_build', buildId: 'build-1-notes-api-20250101-000000' });
    await placeRepository(buildId, repo);
    expect((await api(url, `/executor/builds/${buildId}/files`)).body).toEqual({ commit: null, files: [] });
  });

  it('serve a binary file without content and a long one cut at 256 KiB', async () => {
    const { buildId, repo } = await submitted('files-api');
    await placeRepository(buildId, repo);
    const long = `${'x'.repeat(99)}\n`.repeat(3000);
    const commit = await repo.commitChanges([write('img.bin', 'PNG\0\x01'), write('long.txt', long)], 'feat: files', { step: 'apprentice_build', buildId });

    const binary = await api(url, `/executor/builds/${buildId}/files/img.bin`);
    expect(binary.body).toEqual({ path: 'img.bin', size: 5, commit: commit!.sha, content: null, binary: true, truncated: false });
    const text = await api<{ content: string; size: number; truncated: boolean }>(url, `/executor/builds/${buildId}/files/long.txt`);
    expect(text.body.size).toBe(300_000);
    expect(text.body.truncated).toBe(true);
    expect(Buffer.byteLength(text.body.content)).toBeLessThanOrEqual(FILE_TEXT_LIMIT);
    expect(long.startsWith(text.body.content)).toBe(true);
    expect(text.body.content.endsWith('\n')).toBe(true);
  });

  it('show only the repair commits, each with the verification attempt it answers', async () => {
    const { buildId, repo } = await submitted('repairs-api');
    await placeRepository(buildId, repo);
    await repo.commitChanges([write('src/a.js', 'one\n')], 'feat: code', { step: 'apprentice_build', buildId });
    const first = await repo.commitChanges([write('src/a.js', 'two\n')], 'fix: repair after verification attempt 1', { step: 'verifier', buildId });
    await repo.commitChanges([write('package-lock.json', '{}\n')], 'chore: lockfile', { step: 'verifier', buildId });
    const second = await repo.commitChanges([write('src/a.js', 'three\n')], 'fix: repair after verification attempt 2', { step: 'verifier', buildId });

    const { body } = await api<{ repairs: { attempt: number; commit: string; files: string[]; diff: string }[] }>(url, `/executor/builds/${buildId}/repairs`);
    expect(body.repairs.map((repair) => [repair.attempt, repair.commit, repair.files])).toEqual([
      [1, first!.sha, ['src/a.js']],
      [2, second!.sha, ['src/a.js']],
    ]);
    expect(body.repairs[1]!.diff).toContain('-two\n+three\n');
  });
});
