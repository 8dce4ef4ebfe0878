/**
 * The dashboard's reads of a droplet repository (src/repo/history.ts) against real git
 * repositories in a temp dir: what a build committed, by trailer; trees as `git ls-tree`
 * lists them; blobs by id (text, binary, capped); a commit's diff with no driver run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capText, GitRepositoryHistory } from '../../src/repo/history.js';
import { GitWorkspace, type GitDropletRepo } from '../../src/repo/repo.js';

const BUILD = 'build-7-notes-api-20260101-000000';
/** Another build whose id starts with BUILD's: its commits are not BUILD's. */
const RETRY_BUILD = `${BUILD}-2`;

let base: string;
let repo: GitDropletRepo;
const history = new GitRepositoryHistory();

/** Plain git for assertions (isolated from the machine's config). */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

beforeEach(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'repo-history-')));
  repo = new GitWorkspace({ reposDir: path.join(base, 'repos') }).repoFor({ dropletId: 7, name: 'notes-api' });
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const write = (file: string, content: string) => ({ kind: 'write' as const, path: file, content });

describe('GitRepositoryHistory', () => {
  it('answers nothing for a repository that does not exist yet', async () => {
    expect(await history.buildCommits(repo.path, BUILD)).toEqual([]);
    expect(await history.treeFiles(repo.path, 'a'.repeat(40))).toEqual([]);
  });

  it("finds a build's commits by its exact trailer, oldest first", async () => {
    const first = await repo.commitChanges([write('a.txt', 'one\n')], 'feat: first', { step: 'apprentice_build', buildId: BUILD });
    const other = await repo.commitChanges([write('b.txt', 'two\n')], 'feat: other', { step: 'apprentice_build', buildId: RETRY_BUILD });
    const second = await repo.commitChanges([write('a.txt', 'three\n')], 'fix: repair after verification attempt 1', { step: 'verifier', buildId: BUILD });
    const commits = await history.buildCommits(repo.path, BUILD);
    expect(commits.map((commit) => commit.sha)).toEqual([first!.sha, second!.sha]);
    expect(commits[1]!.message.split('\n')[0]).toBe('fix: repair after verification attempt 1');
    expect((await history.buildCommits(repo.path, RETRY_BUILD)).map((commit) => commit.sha)).toEqual([other!.sha]);
  });

  it("lists a commit's tree as git ls-tree does, and reads blobs by id", async () => {
    await repo.commitChanges([write('src/index.js', 'export {};\n'), write('docs/ü nicode.md', '# héllo\n'), write('bin.dat', 'a\0b')], 'feat: files', { step: 'apprentice_build', buildId: BUILD });
    const head = git(repo.path, 'rev-parse', 'HEAD').trim();
    const files = await history.treeFiles(repo.path, head);
    const listed = git(repo.path, '-c', 'core.quotePath=false', 'ls-tree', '-r', '-l', head)
      .trim()
      .split('\n')
      .map((line) => {
        const [meta, file] = line.split('\t');
        const [, , blob, size] = meta!.split(/ +/);
        return { path: file!, size: Number(size), blob: blob! };
      });
    expect(files).toEqual(listed);
    expect(files.map((file) => file.path).sort()).toEqual(['bin.dat', 'docs/ü nicode.md', 'src/index.js']);

    const text = files.find((file) => file.path === 'docs/ü nicode.md')!;
    expect(await history.readBlob(repo.path, text.blob, 1024)).toEqual({ text: '# héllo\n', truncated: false });
    const binary = files.find((file) => file.path === 'bin.dat')!;
    expect(await history.readBlob(repo.path, binary.blob, 1024)).toEqual({ text: null, truncated: false });
  });

  it('reads what was committed, not what the working tree holds now', async () => {
    await repo.commitChanges([write('a.txt', 'committed\n')], 'feat: a', { step: 'apprentice_build', buildId: BUILD });
    writeFileSync(path.join(repo.path, 'a.txt'), 'changed by running code\n');
    const [file] = await history.treeFiles(repo.path, git(repo.path, 'rev-parse', 'HEAD').trim());
    expect(await history.readBlob(repo.path, file!.blob, 1024)).toEqual({ text: 'committed\n', truncated: false });
  });

  it('caps a long text at a line end and says it did', async () => {
    const long = Array.from({ length: 100 }, (_, index) => `line ${index}`).join('\n');
    await repo.commitChanges([write('long.txt', long)], 'feat: long', { step: 'apprentice_build', buildId: BUILD });
    const [file] = await history.treeFiles(repo.path, git(repo.path, 'rev-parse', 'HEAD').trim());
    const read = await history.readBlob(repo.path, file!.blob, 50);
    expect(read.truncated).toBe(true);
    expect(read.text).toBe(`${long.slice(0, long.lastIndexOf('\n', 50) + 1)}`);
    expect(Buffer.byteLength(read.text!)).toBeLessThanOrEqual(50);
  });

  it("gives a commit's changed files and its unified diff, the root commit against the empty tree", async () => {
    const root = await repo.commitChanges([write('a.txt', 'one\n')], 'feat: a', { step: 'apprentice_build', buildId: BUILD });
    const fix = await repo.commitChanges([write('a.txt', 'two\n'), write('src/b.js', 'b\n')], 'fix: repair after verification attempt 1', { step: 'verifier', buildId: BUILD });
    const rootChange = await history.commitChange(repo.path, root!.sha, 10_000);
    expect(rootChange.files).toEqual(['a.txt']);
    expect(rootChange.diff).toContain('+one');
    const change = await history.commitChange(repo.path, fix!.sha, 10_000);
    expect(change.files).toEqual(['a.txt', 'src/b.js']);
    expect(change.diff).toBe(git(repo.path, 'diff-tree', '-p', '--no-commit-id', '--no-color', fix!.sha));
    expect(change.diff).toContain('-one\n+two\n');
    expect(change.truncated).toBe(false);
    const capped = await history.commitChange(repo.path, fix!.sha, 40);
    expect(capped.truncated).toBe(true);
    expect(change.diff.startsWith(capped.diff)).toBe(true);
  });

  it("runs no textconv or external diff driver the repository's config names", async () => {
    await repo.commitChanges([write('a.txt', 'one\n')], 'feat: a', { step: 'apprentice_build', buildId: BUILD });
    const marker = path.join(base, 'driver-ran');
    const fix = await repo.commitChanges([write('a.txt', 'two\n'), write('.gitattributes', '* diff=evil\n')], 'fix: repair after verification attempt 1', { step: 'verifier', buildId: BUILD });
    git(repo.path, 'config', 'diff.evil.textconv', `touch ${marker}; cat`);
    git(repo.path, 'config', 'diff.evil.command', `touch ${marker}; true`);
    git(repo.path, 'config', 'diff.external', `touch ${marker}; true`);
    const change = await history.commitChange(repo.path, fix!.sha, 10_000);
    expect(change.diff).toContain('-one\n+two\n');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses an object id that is not one', async () => {
    await repo.commitChanges([write('a.txt', 'one\n')], 'feat: a', { step: 'apprentice_build', buildId: BUILD });
    await expect(history.treeFiles(repo.path, 'HEAD')).rejects.toThrow(/is not a commit id/);
    await expect(history.readBlob(repo.path, '--output=/tmp/x', 10)).rejects.toThrow(/is not a blob id/);
  });
});

describe('capText', () => {
  it('never splits a character', () => {
    // "é" is two bytes: a cap in its middle drops it whole.
    expect(capText('aé', 2)).toEqual({ text: 'a', truncated: true });
    expect(capText('aé', 3)).toEqual({ text: 'aé', truncated: false });
  });
});
