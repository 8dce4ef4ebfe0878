/**
 * The release archive is the tree as committed and verified, byte for byte: a droplet's
 * own `.gitattributes` (it is droplet-authored) may not change what is deployed on the
 * way out, whether by line endings, re-encoding, keyword expansion or leaving files out.
 * The repository is made and committed through the project's GitWorkspace, as builds do.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitWorkspace, type GitDropletRepo } from '../../src/repo/repo.js';

const trailers = { step: 'apprentice_build', buildId: 'build-7-notes-api-20260101-000000' };

/** Plain git for assertions (isolated from the machine's config, not hardened). */
function git(cwd: string, ...args: string[]): Buffer {
  return execFileSync('git', args, {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
}

const ATTRIBUTES = ['*.js text eol=crlf', '*.txt working-tree-encoding=UTF-16LE-BOM', 'secret.js export-ignore', '*.md export-subst', '*.c ident', ''].join('\n');

const FILES: Record<string, string> = {
  '.gitattributes': ATTRIBUTES,
  'src/server.js': "'use strict';\nconst a = 1;\nmodule.exports = a;\n",
  'secret.js': "module.exports = 'shipped: the droplet needs it';\n",
  'notes.txt': 'héllo, wörld\nsecond line\n',
  'README.md': 'Built from $Format:%H$ by $Format:%an$\n',
  'native/id.c': '/* $Id$ */\nint main(void) { return 0; }\n',
};

const WHY: Record<string, string> = {
  '.gitattributes': 'the attributes themselves',
  'src/server.js': 'eol=crlf would rewrite its line endings',
  'secret.js': 'export-ignore would leave it out',
  'notes.txt': 'working-tree-encoding would re-encode it as UTF-16',
  'README.md': 'export-subst would expand $Format$',
  'native/id.c': 'ident would expand $Id$',
};

let base: string;
let repo: GitDropletRepo;
let commit: string;
let out: string;
let listed: string[];

beforeAll(async () => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'repo-archive-')));
  repo = new GitWorkspace({ reposDir: path.join(base, 'repos') }).repoFor({ dropletId: 7, name: 'notes-api' });
  const changes = Object.entries(FILES).map(([file, content]) => ({ kind: 'write' as const, path: file, content }));
  commit = (await repo.commitChanges(changes, 'droplet with hostile attributes', trailers))!.sha;
  const tar = path.join(base, 'release.tar');
  await repo.archive(commit, tar);
  out = path.join(base, 'out');
  mkdirSync(out);
  execFileSync('tar', ['-xf', tar, '-C', out]);
  listed = execFileSync('tar', ['-tf', tar], { encoding: 'utf8' }).split('\n').filter((entry) => entry && !entry.endsWith('/'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('GitDropletRepo.archive against a committed .gitattributes', () => {
  it('holds every committed file, and nothing else', () => {
    expect(listed.sort()).toEqual(Object.keys(FILES).sort());
  });

  it.each(Object.keys(FILES))('%s is byte-identical to the committed blob', (file) => {
    const committed = git(repo.path, 'cat-file', '-p', `${commit}:${file}`);
    expect(committed.toString('utf8'), 'committed as written').toBe(FILES[file]);
    expect(readFileSync(path.join(out, file)), WHY[file]).toEqual(committed);
  });
});
