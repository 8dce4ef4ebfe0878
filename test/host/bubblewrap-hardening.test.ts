/**
 * Two holes found by the hostile builds, closed in bubblewrapArgs: the sandbox HOME was
 * one directory shared by every command of every build (an `.npmrc` planted by one
 * build's test ran its script inside every later build's `npm test`), and the
 * workspace's `.git` was writable (a test could plant hooks and config, or rewrite the
 * executor's record of the build). Checked on the arguments and by running bwrap.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BubblewrapSandbox, bubblewrapArgs, type BubblewrapPlan, DEFAULT_HIDDEN_PATHS } from '../../src/sandbox/bubblewrap.js';

let root: string;
let plan: BubblewrapPlan;

beforeAll(() => {
  // Not under /tmp: the sandbox's private /tmp must not be what hides anything here.
  root = mkdtempSync('/var/tmp/bwrap-hardening-');
  for (const dir of ['data/repos/1-git/.git/hooks', 'data/repos/2-plain', 'data/sandbox-home', 'npm']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'data/repos/1-git/.git/config'), '[core]\n\tbare = false\n');
  plan = { cwd: join(root, 'data/repos/1-git'), network: false, homeDir: join(root, 'data/sandbox-home'), npmCacheDir: join(root, 'npm'), hiddenPaths: [join(root, 'data')] };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const mountIndex = (args: string[], ...mount: string[]) => args.findIndex((_, index) => mount.every((part, offset) => args[index + offset] === part));

describe('the private HOME', () => {
  it('is an empty tmpfs per command, never the host directory bound in', () => {
    for (const network of [false, true]) {
      const args = bubblewrapArgs({ ...plan, network });
      expect(mountIndex(args, '--tmpfs', plan.homeDir)).toBeGreaterThan(mountIndex(args, '--tmpfs', join(root, 'data')));
      expect(mountIndex(args, '--bind', plan.homeDir, plan.homeDir)).toBe(-1);
    }
  });

  it('still lets the workspace and npm cache be bound inside it, after it', () => {
    const homeDir = join(root, 'other-home');
    const cwd = join(homeDir, 'work');
    mkdirSync(cwd, { recursive: true });
    const args = bubblewrapArgs({ ...plan, cwd, homeDir, npmCacheDir: join(homeDir, '.npm'), network: true });
    const home = mountIndex(args, '--tmpfs', homeDir);
    expect(mountIndex(args, '--bind', cwd, cwd)).toBeGreaterThan(home);
    expect(mountIndex(args, '--bind', join(homeDir, '.npm'), join(homeDir, '.npm'))).toBeGreaterThan(home);
  });
});

describe("the workspace's .git", () => {
  it('is bound read-only over the writable workspace when it is a directory', () => {
    const args = bubblewrapArgs(plan);
    const gitDir = join(plan.cwd, '.git');
    expect(mountIndex(args, '--ro-bind', gitDir, gitDir)).toBeGreaterThan(mountIndex(args, '--bind', plan.cwd, plan.cwd));
  });

  it('adds nothing for a workspace without one, or with a link there (bwrap would follow it)', () => {
    const plain = join(root, 'data/repos/2-plain');
    expect(bubblewrapArgs({ ...plan, cwd: plain }).join(' ')).not.toContain('.git');
    const linked = join(root, 'data/repos/3-linked');
    mkdirSync(linked);
    symlinkSync(join(plan.cwd, '.git'), join(linked, '.git'));
    expect(bubblewrapArgs({ ...plan, cwd: linked }).join(' ')).not.toContain('.git');
  });
});

describe('in bwrap', () => {
  const sandbox = () =>
    new BubblewrapSandbox({ baseEnv: { PATH: process.env.PATH }, homeDir: plan.homeDir, npmCacheDir: plan.npmCacheDir, hiddenPaths: [join(root, 'data')], killGraceMs: 500 });
  const sh = (script: string) => sandbox().run({ command: 'sh', args: ['-c', script], cwd: plan.cwd, timeoutMs: 30_000 });

  it('what one command leaves in HOME is gone for the next, and never on the host', async () => {
    const planted = await sh('echo "node-options=--require $HOME/planted.cjs" > "$HOME/.npmrc" && echo planted > "$HOME/planted.cjs" && ls -A "$HOME"');
    expect(planted).toMatchObject({ exitCode: 0 });
    expect(planted.output).toContain('.npmrc');
    const next = await sh('ls -A "$HOME" | wc -l; echo "HOME=$HOME"');
    expect(next.output).toBe(`0\nHOME=${plan.homeDir}\n`);
    expect(readdirSync(plan.homeDir)).toEqual([]);
  });

  it('a command cannot write .git, but can write the rest of its workspace', async () => {
    const result = await sh('echo ok > made-here; echo "[core]\tfsmonitor = evil" >> .git/config; echo "#!/bin/sh" > .git/hooks/pre-commit; rm -rf .git/hooks; mv .git moved; echo done');
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/Read-only file system/);
    expect(result.output).toContain('done');
    expect(readFileSync(join(plan.cwd, 'made-here'), 'utf8')).toBe('ok\n');
    expect(readFileSync(join(plan.cwd, '.git/config'), 'utf8')).toBe('[core]\n\tbare = false\n');
    expect(existsSync(join(plan.cwd, '.git/hooks'))).toBe(true);
    expect(existsSync(join(plan.cwd, '.git/hooks/pre-commit'))).toBe(false);
    expect(existsSync(join(plan.cwd, 'moved'))).toBe(false);
  });

  it('refuses a nested user namespace, where root would regain capabilities (security review)', async () => {
    const result = await sh('unshare -U -r -n true && echo NESTED || echo refused');
    expect(result.output).toContain('refused');
    expect(result.output).not.toContain('NESTED');
    // Outside the sandbox the same command works: the refusal is the sandbox's.
    expect(spawnSync('unshare', ['-U', '-r', '-n', 'true']).status).toBe(0);
  });

  it('hides the backups and state root owns, not only the live credential files (security review)', async () => {
    const present = ['/etc/shadow-', '/etc/gshadow-', '/var/cache/debconf/passwords.dat'].filter((path) => existsSync(path));
    expect(present.length).toBeGreaterThan(0);
    const withDefaults = new BubblewrapSandbox({
      baseEnv: { PATH: process.env.PATH },
      homeDir: plan.homeDir,
      npmCacheDir: plan.npmCacheDir,
      hiddenPaths: [...DEFAULT_HIDDEN_PATHS, join(root, 'data')],
      killGraceMs: 500,
    });
    const script = present.map((path) => `head -c 1 ${path} >/dev/null 2>&1 && echo READ:${path}`).join('; ') + '; echo end';
    // Readable by the same command in a sandbox that hides only the data dir: the defaults are what hide them.
    expect((await sh(script)).output).toContain('READ:');
    const result = await withDefaults.run({ command: 'sh', args: ['-c', script], cwd: plan.cwd, timeoutMs: 30_000 });
    expect(result.output.trim()).toBe('end');
  });
});
