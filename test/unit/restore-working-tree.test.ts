import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError, UnsafePathError } from '../../src/domain/errors.js';
import { GitWorkspace, type GitDropletRepo } from '../../src/repo/repo.js';
import { processesUnder } from '../support/processes.js';

const trailers = { step: 'verifier', buildId: 'build-9-notes-api-20260101-000000' };
/** A read or write that blocked on a FIFO would never settle; the test fails by timeout instead. */
const PROMPT = { timeout: 10_000 };

let base: string;
let outside: string;
let repo: GitDropletRepo;

/** Plain git for assertions (isolated from the machine's config, not hardened). */
function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

const at = (relative: string) => path.join(repo.path, relative);
const write = (relative: string, content: string) => {
  mkdirSync(path.dirname(at(relative)), { recursive: true });
  writeFileSync(at(relative), content);
};
const fifo = (file: string) => execFileSync('mkfifo', [file]);

/** Every entry of the working tree but .git, as `find` prints it. */
function tree(): string[] {
  return execFileSync('find', ['.', '-mindepth', '1', '-path', './.git', '-prune', '-o', '-print'], { cwd: repo.path, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
}

const COMMITTED = {
  '.gitignore': 'node_modules/\ncoverage/\n',
  'package.json': '{"name":"notes-api","main":"src/server.js"}\n',
  'src/server.js': 'export const server = 1;\n',
  'src/lib/util.js': 'export const util = 1;\n',
  'test/server.test.js': "fetch('/health');\n",
};

beforeEach(async () => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'restore-test-')));
  outside = path.join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'keep.txt'), 'outside, untouched\n');
  repo = new GitWorkspace({ reposDir: path.join(base, 'repos') }).repoFor({ dropletId: 9, name: 'notes-api' });
  await repo.commitChanges(
    Object.entries(COMMITTED).map(([file, content]) => ({ kind: 'write' as const, path: file, content })),
    'feat: droplet',
    trailers,
  );
  write('node_modules/dep/index.js', 'module.exports = 1;\n');
});

afterEach(() => {
  const leftover = processesUnder(base);
  rmSync(base, { recursive: true, force: true });
  expect(leftover).toEqual([]);
});

function expectCommittedTreeWithDependencies(): void {
  for (const [file, content] of Object.entries(COMMITTED)) expect(readFileSync(at(file), 'utf8')).toBe(content);
  expect(tree()).toEqual([
    './.gitignore',
    './node_modules',
    './node_modules/dep',
    './node_modules/dep/index.js',
    './package.json',
    './src',
    './src/lib',
    './src/lib/util.js',
    './src/server.js',
    './test',
    './test/server.test.js',
  ]);
  expect(readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('outside, untouched\n');
}

describe('GitDropletRepo.restoreWorkingTree', () => {
  it('restores changed and deleted tracked files, removes untracked files, dirs and .npmrc, keeps node_modules', async () => {
    const head = await repo.head();
    write('src/server.js', 'process.exit(1);\n');
    rmSync(at('src/lib/util.js'));
    write('stray.js', 'stray\n');
    write('extra/deep/planted.js', 'planted\n');
    write('.npmrc', 'registry=http://evil.invalid/\n');
    write('coverage/lcov.info', 'ignored output\n');
    execFileSync('chmod', ['+x', at('package.json')]);
    await repo.restoreWorkingTree();
    expectCommittedTreeWithDependencies();
    expect(lstatSync(at('package.json')).mode & 0o111).toBe(0);
    expect(await repo.head()).toBe(head);
    expect(git(repo.path, 'status', '--porcelain', '--ignored')).toBe('!! node_modules/\n');
  });

  it('removes planted links without touching their targets, including one replacing a tracked dir or node_modules', async () => {
    symlinkSync(outside, at('escape'));
    symlinkSync(path.join(outside, 'keep.txt'), at('src/keep.js'));
    rmSync(at('src/lib'), { recursive: true });
    symlinkSync(outside, at('src/lib'));
    await repo.restoreWorkingTree();
    expectCommittedTreeWithDependencies();
    expect(lstatSync(at('src/lib')).isDirectory()).toBe(true);
    expect(execFileSync('ls', ['-A', outside], { encoding: 'utf8' })).toBe('keep.txt\n');

    rmSync(at('node_modules'), { recursive: true });
    symlinkSync(outside, at('node_modules'));
    await repo.restoreWorkingTree();
    expect(existsSync(at('node_modules'))).toBe(false);
    expect(execFileSync('ls', ['-A', outside], { encoding: 'utf8' })).toBe('keep.txt\n');
  });

  it('removes what a planted .gitignore, a nested repository or a FIFO would otherwise hide from git clean', PROMPT, async () => {
    write('src/.gitignore', '*\n');
    write('src/hidden.js', 'hidden\n');
    write('evil/payload.js', 'payload\n');
    git(at('evil'), 'init', '-q');
    write('node_modules/../src/lib/also.js', 'x\n');
    rmSync(at('src/server.js'));
    fifo(at('src/server.js'));
    fifo(at('test/pipe.test.js'));
    fifo(at('src/lib/pipe'));
    await repo.restoreWorkingTree();
    expectCommittedTreeWithDependencies();
  });

  it('runs no hook or filter driver the repository defines', async () => {
    const marker = path.join(base, 'ran.log');
    const script = path.join(base, 'filter.sh');
    writeFileSync(script, `#!/bin/sh\necho ran >> '${marker}'\ncat\n`, { mode: 0o755 });
    await repo.commitChanges([{ kind: 'write', path: '.gitattributes', content: '*.js filter=evil\n' }], 'chore: attributes', trailers);
    git(repo.path, 'config', 'filter.evil.smudge', script);
    git(repo.path, 'config', 'filter.evil.clean', script);
    git(repo.path, 'config', 'filter.evil.required', 'true');
    git(repo.path, 'config', 'submodule.recurse', 'true');
    for (const hook of ['post-checkout', 'post-index-change', 'reference-transaction']) {
      writeFileSync(at(`.git/hooks/${hook}`), `#!/bin/sh\necho ${hook} >> '${marker}'\n`, { mode: 0o755 });
    }
    write('src/server.js', 'changed\n');
    await repo.restoreWorkingTree();
    expect(readFileSync(at('src/server.js'), 'utf8')).toBe(COMMITTED['src/server.js']);
    expect(existsSync(marker)).toBe(false);
    // Control: plain git in the same repository does run the planted smudge filter.
    write('src/server.js', 'changed again\n');
    git(repo.path, 'checkout', '--', 'src/server.js');
    expect(readFileSync(marker, 'utf8')).toContain('ran');
  });

  it('refuses a repository without a commit', async () => {
    const empty = new GitWorkspace({ reposDir: path.join(base, 'repos') }).repoFor({ dropletId: 10, name: 'empty-one' });
    await expect(empty.restoreWorkingTree()).rejects.toMatchObject({ code: 'NOTHING_TO_RESTORE' });
    await empty.ensure();
    const error = await empty.restoreWorkingTree().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'NOTHING_TO_RESTORE' });
  });
});

describe('GitDropletRepo reads and writes over planted special files', () => {
  it('readFiles leaves out a FIFO, a link inside the repository and a file over 1 MiB, promptly', PROMPT, async () => {
    rmSync(at('src/server.js'));
    fifo(at('src/server.js'));
    symlinkSync('lib/util.js', at('src/alias.js'));
    write('src/big.js', 'x'.repeat(1024 * 1024 + 1));
    const files = await repo.readFiles(['src/server.js', 'src/alias.js', 'src/big.js', 'src/lib/util.js', 'src/missing.js']);
    expect(files).toEqual([{ path: 'src/lib/util.js', content: COMMITTED['src/lib/util.js'] }]);
  });

  it('readFiles refuses, promptly, a path that is a link to /dev/zero or out of the repository', PROMPT, async () => {
    rmSync(at('package.json'));
    symlinkSync('/dev/zero', at('package.json'));
    symlinkSync(path.join(outside, 'keep.txt'), at('src/keep.js'));
    await expect(repo.readFiles(['package.json'])).rejects.toBeInstanceOf(UnsafePathError);
    await expect(repo.readFiles(['src/keep.js'])).rejects.toBeInstanceOf(UnsafePathError);
  });

  it('commitChanges replaces a planted FIFO instead of waiting for a reader', PROMPT, async () => {
    rmSync(at('src/server.js'));
    fifo(at('src/server.js'));
    const commit = await repo.commitChanges([{ kind: 'write', path: 'src/server.js', content: 'repaired\n' }], 'fix: repair', trailers);
    expect(commit).not.toBeNull();
    expect(readFileSync(at('src/server.js'), 'utf8')).toBe('repaired\n');
    expect(git(repo.path, 'show', 'HEAD:src/server.js')).toBe('repaired\n');
  });
});
