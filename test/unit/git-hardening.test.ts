/**
 * The driver scan in git.ts is cached per repository; these are the ways generated code
 * (a droplet's tests run with the workspace writable) could try to change the config
 * without the cache noticing, and so get a filter run by the executor's own git.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { GitWorkspace, type GitDropletRepo } from '../../src/repo/repo.js';

const trailers = { step: 'verifier', buildId: 'build-9-ledger-20260101-000000' };

let base: string;
let repo: GitDropletRepo;
let marker: string;
let filter: string;

/** Plain git, isolated from the machine's config but not hardened: the control. */
function plainGit(cwd: string, ...args: string[]): void {
  try {
    execFileSync('git', args, {
      cwd,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
  } catch {
    // what it ran is what counts
  }
}

beforeEach(async () => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'git-hardening-')));
  repo = new GitWorkspace({ reposDir: path.join(base, 'repos') }).repoFor({ dropletId: 9, name: 'ledger' });
  marker = path.join(base, 'filter-ran');
  filter = path.join(base, 'f.sh');
  writeFileSync(filter, `#!/bin/sh\necho ran >> '${marker}'\ncat\n`);
  chmodSync(filter, 0o755);
  // Every file goes through filter "e"; the first operations cache a scan that finds no such driver.
  await repo.commitChanges([{ kind: 'write', path: '.gitattributes', content: '* filter=e\n' }, { kind: 'write', path: 'a.js', content: '1\n' }], 'feat: a', trailers);
  await repo.listFiles();
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const config = () => path.join(repo.path, '.git', 'config');

describe('the cached driver scan', () => {
  it('sees a config rewritten in place with the same size and its old modification time', async () => {
    const before = statSync(config());
    const old = readFileSync(config(), 'utf8');
    const planted = `[core]\n\trepositoryformatversion = 0\n[filter "e"]\n\tclean = ${filter}\n`;
    expect(planted.length).toBeLessThan(old.length);
    execFileSync('cp', ['-p', config(), `${config()}.bak`]);
    writeFileSync(config(), `${planted}${'#'.repeat(old.length - planted.length - 1)}\n`);
    execFileSync('touch', ['-r', `${config()}.bak`, config()]);
    const after = statSync(config());
    expect([after.ino, after.size, after.mtimeMs]).toEqual([before.ino, before.size, before.mtimeMs]);

    writeFileSync(path.join(repo.path, 'b.js'), '2\n');
    expect(await repo.commitWorkingTree('chore: b', trailers)).not.toBeNull();
    expect(existsSync(marker)).toBe(false);
    writeFileSync(path.join(repo.path, 'c.js'), '3\n');
    plainGit(repo.path, 'add', 'c.js');
    expect(existsSync(marker)).toBe(true);
  });

  it('sees a filter added to config.worktree after an earlier operation enabled it', async () => {
    writeFileSync(config(), `${readFileSync(config(), 'utf8').replace('repositoryformatversion = 0', 'repositoryformatversion = 1')}[extensions]\n\tworktreeConfig = true\n`);
    writeFileSync(path.join(repo.path, '.git', 'config.worktree'), '[user]\n\tname = harmless\n');
    await repo.listFiles();
    writeFileSync(path.join(repo.path, '.git', 'config.worktree'), `[filter "e"]\n\tclean = ${filter}\n`);

    writeFileSync(path.join(repo.path, 'b.js'), '2\n');
    expect(await repo.commitWorkingTree('chore: b', trailers)).not.toBeNull();
    expect(existsSync(marker)).toBe(false);
    writeFileSync(path.join(repo.path, 'c.js'), '3\n');
    plainGit(repo.path, 'add', 'c.js');
    expect(existsSync(marker)).toBe(true);
  });

  it('refuses a repository whose .git/commondir moves its config elsewhere', async () => {
    const common = path.join(base, 'common');
    mkdirSync(path.join(common, 'objects'), { recursive: true });
    mkdirSync(path.join(common, 'refs'), { recursive: true });
    writeFileSync(path.join(common, 'config'), `[core]\n\trepositoryformatversion = 0\n[filter "e"]\n\tclean = ${filter}\n`);
    writeFileSync(path.join(repo.path, '.git', 'commondir'), `${common}\n`);

    writeFileSync(path.join(repo.path, 'b.js'), '2\n');
    const refused = await repo.commitWorkingTree('chore: b', trailers).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StepError);
    expect(refused).toMatchObject({ code: 'UNSAFE_REPOSITORY' });
    await expect(repo.listFiles()).rejects.toMatchObject({ code: 'UNSAFE_REPOSITORY' });
    expect(existsSync(marker)).toBe(false);
    plainGit(repo.path, 'add', 'b.js');
    expect(existsSync(marker)).toBe(true);
  });
});
