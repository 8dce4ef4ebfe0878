import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError, UnsafePathError } from '../../src/domain/errors.js';
import { SecretScanner } from '../../src/support/secrets.js';
import { driverOverrides, gitEnvironment } from '../../src/repo/git.js';
import { GitWorkspace, type GitDropletRepo } from '../../src/repo/repo.js';
import { processesUnder } from '../support/processes.js';

const trailers = { step: 'apprentice_build', buildId: 'build-7-notes-api-20260101-000000' };
const EXECUTOR_SECRET = 'executor-webhook-secret-0123456789';

let base: string;
let reposDir: string;
let workspace: GitWorkspace;
let repo: GitDropletRepo;

/** Plain git for assertions (isolated from the machine's config, not hardened). */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

beforeEach(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'repo-test-')));
  reposDir = path.join(base, 'repos');
  workspace = new GitWorkspace({ reposDir, secretScanner: new SecretScanner([EXECUTOR_SECRET]) });
  repo = workspace.repoFor({ dropletId: 7, name: 'notes-api' });
});

afterEach(() => {
  const leftover = processesUnder(base);
  rmSync(base, { recursive: true, force: true });
  expect(leftover).toEqual([]);
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('GitWorkspace', () => {
  it('keys the repository by droplet id and name and returns one instance per droplet', () => {
    expect(repo.path).toBe(path.join(reposDir, '7-notes-api'));
    expect(workspace.repoFor({ dropletId: 7, name: 'notes-api' })).toBe(repo);
    expect(() => workspace.repoFor({ dropletId: 7, name: '../evil' })).toThrow(UnsafePathError);
    expect(() => workspace.repoFor({ dropletId: -1, name: 'ok-name' })).toThrow(UnsafePathError);
  });
});

describe('GitDropletRepo', () => {
  it('ensure creates a repository on main once and reuses it', async () => {
    await repo.ensure();
    expect(git(repo.path, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
    expect(await repo.head()).toBeNull();
    const first = await repo.commitChanges([{ kind: 'write', path: 'README.md', content: '# notes\n' }], 'docs: readme', trailers);
    await repo.ensure();
    expect(await repo.head()).toBe(first?.sha);
    expect(await repo.listFiles()).toEqual(['README.md']);
  });

  it('reads nothing from an enclosing repository before ensure', async () => {
    git(base, 'init', '-q');
    writeFileSync(path.join(base, 'outer.txt'), 'outer');
    git(base, 'add', 'outer.txt');
    git(base, 'commit', '-q', '-m', 'outer');
    mkdirSync(repo.path, { recursive: true });
    expect(await repo.listFiles()).toEqual([]);
    expect(await repo.head()).toBeNull();
    expect(await repo.log()).toEqual([]);
    await repo.commitChanges([{ kind: 'write', path: 'a.txt', content: 'a' }], 'feat: a', trailers);
    expect(git(base, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
  });

  it('makes one commit per change set, with trailers and the executor identity', async () => {
    await repo.ensure();
    const first = await repo.commitChanges(
      [
        { kind: 'write', path: 'src/app.js', content: 'export const a = 1;\n' },
        { kind: 'write', path: './docs/SPEC.md', content: '# Spec\n' },
      ],
      'feat: first files',
      trailers,
    );
    const second = await repo.commitChanges(
      [
        { kind: 'write', path: 'src/app.js', content: 'export const a = 2;\n' },
        { kind: 'delete', path: 'docs/SPEC.md' },
      ],
      'fix: second',
      { step: 'verifier', buildId: trailers.buildId },
    );
    expect(first?.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(second?.message).toBe(`fix: second\n\nExecutor-Step: verifier\nExecutor-Build: ${trailers.buildId}`);

    const log = await repo.log();
    expect(log.map((commit) => commit.sha)).toEqual([second?.sha, first?.sha]);
    expect(log[1]?.message).toBe(`feat: first files\n\nExecutor-Step: apprentice_build\nExecutor-Build: ${trailers.buildId}`);
    expect(git(repo.path, 'log', '-1', '--format=%(trailers:key=Executor-Step,valueonly)', first!.sha).trim()).toBe('apprentice_build');
    expect(git(repo.path, 'log', '-1', '--format=%an <%ae>|%cn <%ce>').trim()).toBe(
      'Autonomous Executor <executor@localhost>|Autonomous Executor <executor@localhost>',
    );
    expect(await repo.listFiles()).toEqual(['src/app.js']);
    expect(await repo.readFiles(['src/app.js', 'docs/SPEC.md', 'nope.txt'])).toEqual([{ path: 'src/app.js', content: 'export const a = 2;\n' }]);
  });

  it('returns null when a change set changes nothing', async () => {
    const change = { kind: 'write' as const, path: 'a.txt', content: 'same' };
    expect(await repo.commitChanges([change], 'first', trailers)).not.toBeNull();
    expect(await repo.commitChanges([change], 'again', trailers)).toBeNull();
    expect(await repo.commitChanges([{ kind: 'delete', path: 'never-existed.txt' }], 'delete', trailers)).toBeNull();
    expect(await repo.log()).toHaveLength(1);
  });

  it('does not commit a written file that .gitignore excludes, and commits the rest', async () => {
    await repo.commitChanges([{ kind: 'write', path: '.gitignore', content: '.env\n' }], 'chore: ignore', trailers);
    const commit = await repo.commitChanges(
      [
        { kind: 'write', path: '.env', content: 'LOCAL=1\n' },
        { kind: 'write', path: 'app.js', content: '1\n' },
      ],
      'feat: app',
      trailers,
    );
    expect(commit).not.toBeNull();
    expect(await repo.listFiles()).toEqual(['.gitignore', 'app.js']);
  });

  it('writes nothing and commits nothing when one path is unsafe', async () => {
    await repo.ensure();
    const error = await caught(
      repo.commitChanges(
        [
          { kind: 'write', path: 'src/ok.js', content: 'ok' },
          { kind: 'write', path: 'a/../../escaped.txt', content: 'bad' },
        ],
        'feat: mixed',
        trailers,
      ),
    );
    expect(error).toBeInstanceOf(UnsafePathError);
    expect(existsSync(path.join(repo.path, 'src'))).toBe(false);
    expect(existsSync(path.join(reposDir, 'escaped.txt'))).toBe(false);
    expect(await repo.head()).toBeNull();
  });

  it('refuses to write through a symlink that leads out of the repository', async () => {
    await repo.ensure();
    const outside = path.join(base, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, path.join(repo.path, 'out'));
    await expect(repo.commitChanges([{ kind: 'write', path: 'out/x.txt', content: 'x' }], 'x', trailers)).rejects.toBeInstanceOf(UnsafePathError);
    expect(existsSync(path.join(outside, 'x.txt'))).toBe(false);
    await expect(repo.readFiles(['out/x.txt'])).rejects.toBeInstanceOf(UnsafePathError);
  });

  it('refuses change sets over the limits before writing', async () => {
    const error = await caught(repo.commitChanges([{ kind: 'write', path: 'big.txt', content: 'a'.repeat(1024 * 1024 + 1) }], 'big', trailers));
    expect(error).toMatchObject({ code: 'FILE_LIMIT' });
    expect(existsSync(path.join(repo.path, 'big.txt'))).toBe(false);
  });

  it('refuses a change set that contains a secret: nothing written or committed, the secret not in the error', async () => {
    await repo.commitChanges([{ kind: 'write', path: 'a.txt', content: 'a' }], 'first', trailers);
    const head = await repo.head();
    const error = await caught(
      repo.commitChanges(
        [
          { kind: 'write', path: 'src/clean.js', content: 'ok' },
          { kind: 'write', path: 'src/config.js', content: `export const hook = '${EXECUTOR_SECRET}';\n` },
        ],
        'feat: config',
        trailers,
      ),
    );
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'SECRET_DETECTED', details: { findings: [{ path: 'src/config.js', kind: 'executor_secret' }] } });
    expect(JSON.stringify({ message: (error as StepError).message, details: (error as StepError).details })).not.toContain(EXECUTOR_SECRET);
    expect(existsSync(path.join(repo.path, 'src'))).toBe(false);
    expect(await repo.head()).toBe(head);
  });

  it('commits the working tree except what .gitignore excludes, and scans it first', async () => {
    await repo.commitChanges([{ kind: 'write', path: '.gitignore', content: 'node_modules/\n' }], 'chore: ignore', trailers);
    expect(await repo.commitWorkingTree('chore: nothing', trailers)).toBeNull();
    mkdirSync(path.join(repo.path, 'node_modules', 'x'), { recursive: true });
    writeFileSync(path.join(repo.path, 'node_modules', 'x', 'index.js'), `module.exports = '${EXECUTOR_SECRET}';`);
    writeFileSync(path.join(repo.path, 'package-lock.json'), '{"lockfileVersion":3}\n');
    const commit = await repo.commitWorkingTree('chore: lockfile', { step: 'verifier', buildId: trailers.buildId });
    expect(commit?.message).toContain('Executor-Step: verifier');
    expect(await repo.listFiles()).toEqual(['.gitignore', 'package-lock.json']);

    const empty = await repo.commitWorkingTree('chore: checkpoint', trailers, { allowEmpty: true });
    expect(empty?.sha).not.toBe(commit?.sha);
    expect(await repo.head()).toBe(empty?.sha);

    writeFileSync(path.join(repo.path, 'leak.txt'), `key ${EXECUTOR_SECRET}`);
    await expect(repo.commitWorkingTree('chore: leak', trailers)).rejects.toMatchObject({ code: 'SECRET_DETECTED' });
    expect(git(repo.path, 'ls-files', '--stage', '--', 'leak.txt')).toBe('');
    expect(await repo.head()).toBe(empty?.sha);
  });

  it('tags annotated, idempotently on the same commit, and refuses a moved tag', async () => {
    await expect(repo.tag('release-1', 'nothing yet')).rejects.toMatchObject({ code: 'NOTHING_TO_TAG' });
    await repo.commitChanges([{ kind: 'write', path: 'a.txt', content: 'a' }], 'first', trailers);
    await repo.tag('release-1', 'Deployed');
    await repo.tag('release-1', 'Deployed again');
    expect(git(repo.path, 'cat-file', '-t', 'refs/tags/release-1').trim()).toBe('tag');
    expect(git(repo.path, 'tag', '--list').trim()).toBe('release-1');
    await repo.commitChanges([{ kind: 'write', path: 'a.txt', content: 'b' }], 'second', trailers);
    await expect(repo.tag('release-1', 'moved')).rejects.toMatchObject({ code: 'TAG_CONFLICT' });
    await expect(repo.tag('--force', 'x')).rejects.toMatchObject({ code: 'INVALID_TAG' });
  });

  it('tags a given commit rather than HEAD (a version on the verified commit)', async () => {
    const verified = await repo.commitChanges([{ kind: 'write', path: 'a.txt', content: 'a' }], 'verified', trailers);
    await repo.commitChanges([{ kind: 'write', path: 'docs/DEPLOYMENT.md', content: 'later' }], 'record', trailers);
    await repo.tag('v1.1.0', 'analytics-engine 1.1.0', verified!.sha);
    await repo.tag('v1.1.0', 'again', verified!.sha);
    expect(git(repo.path, 'rev-list', '-n', '1', 'v1.1.0').trim()).toBe(verified!.sha);
    await expect(repo.tag('v1.1.0', 'moved')).rejects.toMatchObject({ code: 'TAG_CONFLICT' });
    await expect(repo.tag('v1.2.0', 'x', 'f'.repeat(40))).rejects.toMatchObject({ code: 'NOTHING_TO_TAG' });
    await expect(repo.tag('v1.2.0', 'x', 'HEAD~1')).rejects.toMatchObject({ code: 'INVALID_TAG' });
  });

  it('serialises concurrent operations on one repository', async () => {
    const commits = await Promise.all(
      Array.from({ length: 5 }, (_, i) => repo.commitChanges([{ kind: 'write', path: `f${i}.txt`, content: String(i) }], `feat: f${i}`, trailers)),
    );
    expect(commits.every((commit) => commit !== null)).toBe(true);
    expect(await repo.log()).toHaveLength(5);
  });
});

describe('GitDropletRepo never runs code from the repository', () => {
  it('ignores planted hooks, fsmonitor, filter drivers and a foreign work tree', async () => {
    await repo.ensure();
    const marker = path.join(base, 'ran.log');
    const script = (file: string, body: string) => {
      writeFileSync(file, `#!/bin/sh\necho "$(basename "$0") $*" >> '${marker}'\n${body}`);
      chmodSync(file, 0o755);
    };
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'post-index-change', 'reference-transaction']) {
      script(path.join(repo.path, '.git', 'hooks', hook), 'exit 0\n');
    }
    script(path.join(base, 'fsmonitor.sh'), 'exit 0\n');
    script(path.join(base, 'filter.sh'), 'cat\n');
    script(path.join(base, 'process-filter.sh'), 'exit 1\n');
    const foreign = path.join(base, 'foreign-worktree');
    mkdirSync(foreign);
    writeFileSync(path.join(foreign, 'foreign.txt'), 'not ours');
    const config = path.join(repo.path, '.git', 'config');
    writeFileSync(
      config,
      `${readFileSync(config, 'utf8')}[core]\n\tfsmonitor = ${base}/fsmonitor.sh\n\tpager = ${base}/filter.sh\n\tworktree = ${foreign}\n` +
        `[filter "evil"]\n\tclean = ${base}/filter.sh\n\tsmudge = ${base}/filter.sh\n\trequired = true\n` +
        `[filter "Evil.Proc"]\n\tprocess = ${base}/process-filter.sh\n[commit]\n\tgpgSign = true\n[gpg]\n\tprogram = ${base}/filter.sh\n`,
    );

    await repo.commitChanges(
      [
        { kind: 'write', path: '.gitattributes', content: '*.js filter=evil\n*.txt filter=Evil.Proc\n' },
        { kind: 'write', path: 'app.js', content: 'console.log(1);\n' },
        { kind: 'write', path: 'notes.txt', content: 'notes\n' },
      ],
      'feat: files',
      trailers,
    );
    writeFileSync(path.join(repo.path, 'later.js'), 'later\n');
    await repo.commitWorkingTree('chore: later', trailers);
    await repo.tag('release-x', 'tagged');
    await repo.listFiles();
    await repo.log();
    await repo.head();
    await repo.readFiles(['app.js']);
    expect(existsSync(marker)).toBe(false);
    expect(await repo.listFiles()).toEqual(['.gitattributes', 'app.js', 'later.js', 'notes.txt']);
    expect(git(repo.path, '--work-tree', repo.path, 'show', 'HEAD:later.js')).toBe('later\n');

    // Control: plain git in the same repository does run what was planted (so the checks above can fail).
    writeFileSync(path.join(repo.path, 'control.js'), 'x\n');
    const plainGit = (...args: string[]) => {
      try {
        git(repo.path, '--work-tree', repo.path, '-c', 'commit.gpgSign=false', ...args);
      } catch {
        // a planted filter may make plain git fail; what it ran is what counts
      }
    };
    plainGit('status');
    plainGit('add', 'control.js');
    plainGit('-c', 'filter.Evil.Proc.process=', 'commit', '-q', '-m', 'control');
    writeFileSync(path.join(repo.path, 'notes.txt'), 'changed\n');
    plainGit('add', 'notes.txt');
    const ran = readFileSync(marker, 'utf8');
    expect(ran).toContain('fsmonitor.sh');
    expect(ran).toContain('filter.sh');
    expect(ran).toContain('process-filter.sh');
    expect(ran).toContain('pre-commit');
  });
});

describe('git hardening helpers', () => {
  it('blanks every filter and diff driver found in the config, whatever its name', () => {
    expect(driverOverrides(['filter.lfs.clean', 'filter.Evil.Sub.process', 'diff.img.textconv', 'core.bare'])).toEqual([
      'filter.lfs.clean=',
      'filter.lfs.smudge=',
      'filter.lfs.process=',
      'filter.lfs.required=false',
      'filter.Evil.Sub.clean=',
      'filter.Evil.Sub.smudge=',
      'filter.Evil.Sub.process=',
      'filter.Evil.Sub.required=false',
      'diff.img.textconv=',
      'diff.img.command=',
    ]);
  });

  it("runs git with an environment built from scratch, without the executor's variables", () => {
    process.env.EXECUTOR_TEST_SECRET = EXECUTOR_SECRET;
    try {
      const env = gitEnvironment('/data/repos/7-notes-api');
      expect(Object.values(env)).not.toContain(EXECUTOR_SECRET);
      expect(env).toMatchObject({ GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0', GIT_CEILING_DIRECTORIES: '/data/repos' });
      expect(Object.keys(env).every((key) => key.startsWith('GIT_') || ['PATH', 'LANG', 'LC_ALL'].includes(key))).toBe(true);
    } finally {
      delete process.env.EXECUTOR_TEST_SECRET;
    }
  });
});

describe('GitDropletRepo.commitEach', () => {
  it('makes one commit per entry in one pass, skipping entries that change nothing', async () => {
    const reposDir = mkdtempSync(path.join(tmpdir(), 'repo-each-'));
    try {
      const repo = new GitWorkspace({ reposDir }).repoFor({ dropletId: 3, name: 'batch-demo' });
      await repo.ensure();
      const trailers = { step: 'apprentice_build', buildId: 'build-3-batch-demo-1' };
      const results = await repo.commitEach([
        { changes: [{ kind: 'write', path: 'src/a.js', content: 'export const a = 1;\n' }], message: 'feat: add src/a.js', trailers },
        { changes: [{ kind: 'write', path: '"quoted" name.txt', content: 'odd but safe\n' }], message: 'feat: add a quoted name', trailers },
        { changes: [{ kind: 'write', path: 'src/a.js', content: 'export const a = 1;\n' }], message: 'feat: same content again', trailers },
        { changes: [{ kind: 'delete', path: '"quoted" name.txt' }], message: 'feat: remove it', trailers },
      ]);
      expect(results.map((result) => result !== null)).toEqual([true, true, false, true]);
      const log = await repo.log();
      expect(log.map((commit) => commit.message.split('\n')[0])).toEqual(['feat: remove it', 'feat: add a quoted name', 'feat: add src/a.js']);
      expect(log[0]!.sha).toBe(results[3]!.sha);
      expect(await repo.listFiles()).toEqual(['src/a.js']);
      // The index matches HEAD: nothing is left staged or modified.
      expect(await repo.commitWorkingTree('chore: nothing to do', trailers)).toBeNull();
    } finally {
      rmSync(reposDir, { recursive: true, force: true });
    }
  });
});

describe('GitDropletRepo.commitEach edge cases', () => {
  let reposDir: string;
  beforeEach(() => {
    reposDir = mkdtempSync(path.join(tmpdir(), 'repo-edge-'));
  });
  afterEach(() => {
    rmSync(reposDir, { recursive: true, force: true });
  });
  const trailers = { step: 'apprentice_build', buildId: 'build-4-edge-1' };

  it('deletes a whole directory, in HEAD as on disk', async () => {
    const repo = new GitWorkspace({ reposDir }).repoFor({ dropletId: 4, name: 'edge' });
    await repo.commitChanges(
      [
        { kind: 'write', path: 'dir/a.txt', content: 'a\n' },
        { kind: 'write', path: 'dir/sub/b.txt', content: 'b\n' },
        { kind: 'write', path: 'keep.txt', content: 'k\n' },
      ],
      'feat: files',
      trailers,
    );
    const removed = await repo.commitChanges([{ kind: 'delete', path: 'dir' }], 'feat: remove dir', trailers);
    expect(removed).not.toBeNull();
    expect(await repo.listFiles()).toEqual(['keep.txt']);
    expect(existsSync(path.join(repo.path, 'dir'))).toBe(false);
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo.path, encoding: 'utf8' })).toBe('');
  });

  it('refuses a write through a link to a directory inside the repository', async () => {
    const repo = new GitWorkspace({ reposDir }).repoFor({ dropletId: 4, name: 'edge' });
    await repo.commitChanges([{ kind: 'write', path: 'd/x.txt', content: 'x\n' }], 'feat: d', trailers);
    symlinkSync('d', path.join(repo.path, 'l'));
    await expect(repo.commitChanges([{ kind: 'write', path: 'l/f.txt', content: 'f\n' }], 'feat: through link', trailers)).rejects.toThrow(
      UnsafePathError,
    );
    expect(existsSync(path.join(repo.path, 'd', 'f.txt'))).toBe(false);
  });
});

describe('GitDropletRepo and installed dependencies (security review)', () => {
  it('refuses an author write or delete inside any node_modules, writing nothing of the change', async () => {
    for (const planted of ['node_modules/fastify/index.js', 'src/node_modules/fastify/index.js', 'Node_Modules/x.js']) {
      const error = await caught(repo.commitChanges([{ kind: 'write', path: 'src/ok.js', content: 'ok\n' }, { kind: 'write', path: planted, content: 'EVIL\n' }], 'plant', trailers));
      expect(error).toBeInstanceOf(UnsafePathError);
      expect((error as Error).message).toContain('inside node_modules');
    }
    expect(await caught(repo.commitChanges([{ kind: 'delete', path: 'node_modules' }], 'delete', trailers))).toBeInstanceOf(UnsafePathError);
    expect(existsSync(path.join(repo.path, 'src/ok.js'))).toBe(false);
  });

  it('restores away a link planted in place of the kept lockfile or node_modules, keeping the real ones', async () => {
    await repo.commitChanges([{ kind: 'write', path: 'package.json', content: '{}\n' }], 'init', trailers);
    const outside = path.join(base, 'outside.json');
    writeFileSync(outside, 'host file\n');
    symlinkSync(outside, path.join(repo.path, 'package-lock.json'));
    symlinkSync(base, path.join(repo.path, 'node_modules'));
    await repo.restoreWorkingTree();
    expect(existsSync(path.join(repo.path, 'package-lock.json'))).toBe(false);
    expect(existsSync(path.join(repo.path, 'node_modules'))).toBe(false);
    expect(readFileSync(outside, 'utf8')).toBe('host file\n');
    writeFileSync(path.join(repo.path, 'package-lock.json'), '{"lockfileVersion": 3}\n');
    mkdirSync(path.join(repo.path, 'node_modules/fastify'), { recursive: true });
    await repo.restoreWorkingTree();
    expect(readFileSync(path.join(repo.path, 'package-lock.json'), 'utf8')).toBe('{"lockfileVersion": 3}\n');
    expect(existsSync(path.join(repo.path, 'node_modules/fastify'))).toBe(true);
  });
});
