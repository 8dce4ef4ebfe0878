/**
 * HostOps never follows a link it is handed: a release is droplet-authored, so any name
 * in it may be a link to something only the deploying user (root, here) may read or
 * change. `readFile` of a link is null; `remove` of a link removes the link and leaves
 * what it points at, modes included. Over a real LocalShell on temp dirs.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostOps } from '../../src/deploy/fleet/host-ops.js';
import { LocalShell } from '../../src/deploy/shell/local-shell.js';

const ops = new HostOps(new LocalShell());
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'host-ops-'));
});
afterEach(() => {
  for (const path of [join(dir, 'outside'), join(dir, 'outside', 'sealed')]) if (existsSync(path)) chmodSync(path, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o7777;

describe('HostOps.readFile', () => {
  it('reads a regular file, and is null for a missing one', async () => {
    writeFileSync(join(dir, 'package.json'), '{"main":"src/server.js"}');
    expect(await ops.readFile(join(dir, 'package.json'))).toBe('{"main":"src/server.js"}');
    expect(await ops.readFile(join(dir, 'missing.json'))).toBeNull();
  });

  it('is null for a link, even to a file the deploying user may read (a root-only secret)', async () => {
    const secret = join(dir, 'root-only.key');
    writeFileSync(secret, 'executor-private-key', { mode: 0o600 });
    symlinkSync(secret, join(dir, 'package.json'));
    expect(await ops.readFile(join(dir, 'package.json'))).toBeNull();
    expect(await ops.readFile(secret)).toBe('executor-private-key');
  });

  it('is null for a link to a directory, and for a directory', async () => {
    mkdirSync(join(dir, 'etc'));
    symlinkSync(join(dir, 'etc'), join(dir, 'link'));
    expect(await ops.readFile(join(dir, 'link'))).toBeNull();
    expect(await ops.readFile(join(dir, 'etc'))).toBeNull();
  });
});

describe('HostOps.remove', () => {
  /** A directory outside the release with a read-only file and a read-only folder in it. */
  function outside(): string {
    const target = join(dir, 'outside');
    mkdirSync(join(target, 'sealed'), { recursive: true });
    writeFileSync(join(target, 'read-only.txt'), 'keep');
    writeFileSync(join(target, 'sealed', 'inner.txt'), 'keep');
    chmodSync(join(target, 'read-only.txt'), 0o444);
    chmodSync(join(target, 'sealed'), 0o555);
    chmodSync(target, 0o750);
    return target;
  }

  it('of a top-level link to a directory removes the link only: the directory, its files and their modes stay', async () => {
    const target = outside();
    const link = join(dir, 'releases-leftover');
    symlinkSync(target, link);
    await ops.remove([link]);
    expect(() => lstatSync(link)).toThrow();
    expect(readdirSync(target).sort()).toEqual(['read-only.txt', 'sealed']);
    expect(readdirSync(join(target, 'sealed'))).toEqual(['inner.txt']);
    expect(mode(target)).toBe(0o750);
    expect(mode(join(target, 'read-only.txt'))).toBe(0o444);
    expect(mode(join(target, 'sealed'))).toBe(0o555);
  });

  it('of a link to a file removes the link only, the file’s mode unchanged', async () => {
    const file = join(outside(), 'read-only.txt');
    const link = join(dir, 'node_modules');
    symlinkSync(file, link);
    await ops.remove([link]);
    expect(() => lstatSync(link)).toThrow();
    expect(mode(file)).toBe(0o444);
  });

  it('still removes a real read-only tree (a release), and a missing path is fine', async () => {
    const release = outside();
    await ops.remove([release, join(dir, 'never-there')]);
    expect(existsSync(release)).toBe(false);
  });
});
