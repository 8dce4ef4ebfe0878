import { chmodSync, lstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hardenDataDir, shareDependencyEntry } from '../../src/sandbox/data-dir-modes.js';

const ENTRY = '0123456789abcdef01234567';
let root: string;
let dataDir: string;

const modeOf = (path: string) => lstatSync(path).mode & 0o7777;

function put(path: string, mode: number, content = 'x'): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

function dir(path: string, mode: number): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'data-dir-modes-'));
  chmodSync(root, 0o755);
  dataDir = join(root, 'data');
  dir(dataDir, 0o755);
  for (const file of ['executor.db', 'executor.db-wal', 'executor.db-shm', 'executor.lock', 'known_hosts']) put(join(dataDir, file), 0o644);
  for (const name of ['repos/1-alpha', 'run', 'sandbox-home', 'deployments/alpha/releases/b1']) dir(join(dataDir, name), 0o755);
  put(join(dataDir, 'repos/1-alpha/server.js'), 0o644);
  const entry = join(dataDir, 'dependencies', ENTRY);
  put(join(entry, 'package-lock.json'), 0o600);
  put(join(entry, 'node_modules/some-pkg/index.js'), 0o644);
  put(join(entry, 'node_modules/umask-077/index.js'), 0o600);
  chmodSync(join(entry, 'node_modules/umask-077'), 0o700);
  put(join(entry, 'node_modules/writable/index.js'), 0o666);
  put(join(entry, 'node_modules/some-pkg/bin/cli.js'), 0o700);
  chmodSync(entry, 0o700); // as an executor with a umask of 077 makes it
  dir(join(dataDir, 'dependencies/manifests'), 0o755);
  dir(join(dataDir, 'dependencies/.staging-0a1b2c'), 0o755);
  put(join(dataDir, 'dependencies/stray-file'), 0o644);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('hardenDataDir', () => {
  it('opens only the traversal path to releases and dependency entries, and closes everything else', async () => {
    await hardenDataDir(dataDir);
    for (const path of ['', 'deployments', 'dependencies']) expect(modeOf(join(dataDir, path))).toBe(0o711);
    for (const file of ['executor.db', 'executor.db-wal', 'executor.db-shm', 'executor.lock', 'known_hosts']) expect(modeOf(join(dataDir, file))).toBe(0o600);
    for (const name of ['repos', 'run', 'sandbox-home', 'dependencies/manifests', 'dependencies/.staging-0a1b2c']) expect(modeOf(join(dataDir, name))).toBe(0o700);
    expect(modeOf(join(dataDir, 'dependencies/stray-file'))).toBe(0o600);
    // What is inside deployments/ belongs to the deploy engine; what is inside repos/ is closed off by repos/ itself.
    expect(modeOf(join(dataDir, 'deployments/alpha'))).toBe(0o755);
    expect(modeOf(join(dataDir, 'repos/1-alpha/server.js'))).toBe(0o644);
  });

  it('makes every dependency entry readable and nothing in it writable but by its owner', async () => {
    await hardenDataDir(dataDir);
    const entry = join(dataDir, 'dependencies', ENTRY);
    for (const path of ['', 'node_modules', 'node_modules/some-pkg', 'node_modules/umask-077']) expect(modeOf(join(entry, path))).toBe(0o755);
    for (const path of ['package-lock.json', 'node_modules/some-pkg/index.js', 'node_modules/umask-077/index.js', 'node_modules/writable/index.js']) {
      expect(modeOf(join(entry, path))).toBe(0o644);
    }
    expect(modeOf(join(entry, 'node_modules/some-pkg/bin/cli.js'))).toBe(0o755);
  });

  it('changes nothing the second time', async () => {
    expect((await hardenDataDir(dataDir)).changed).toBeGreaterThan(0);
    expect((await hardenDataDir(dataDir)).changed).toBe(0);
  });

  it('never follows a link, under DATA_DIR or inside an entry, nor a linked .env', async () => {
    const outside = join(root, 'outside');
    put(join(outside, 'file'), 0o644);
    dir(join(outside, 'dir'), 0o777);
    put(join(outside, 'secret'), 0o640);
    symlinkSync(join(outside, 'file'), join(dataDir, 'planted'));
    rmSync(join(dataDir, 'deployments'), { recursive: true });
    symlinkSync(join(outside, 'dir'), join(dataDir, 'deployments'));
    symlinkSync(join(outside, 'secret'), join(dataDir, 'dependencies', ENTRY, 'node_modules/link'));
    symlinkSync(join(outside, 'dir'), join(dataDir, 'dependencies', 'abcdefabcdefabcdefabcdef'));
    await hardenDataDir(dataDir, { secretFiles: [join(dataDir, 'planted')] });
    expect(modeOf(join(outside, 'file'))).toBe(0o644);
    expect(modeOf(join(outside, 'dir'))).toBe(0o777);
    expect(modeOf(join(outside, 'secret'))).toBe(0o640);
  });

  it('hardens the target of a DATA_DIR that is a link, and the executor .env', async () => {
    symlinkSync(dataDir, join(root, 'data-link'));
    put(join(root, '.env'), 0o644, 'API_TOKEN=x\n');
    await hardenDataDir(join(root, 'data-link'), { secretFiles: [join(root, '.env'), join(root, 'missing/.env')] });
    expect(modeOf(dataDir)).toBe(0o711);
    expect(modeOf(join(dataDir, 'executor.db'))).toBe(0o600);
    expect(modeOf(join(root, '.env'))).toBe(0o600);
  });

  it('names an ancestor others cannot traverse, which would keep every droplet from its release', async () => {
    expect((await hardenDataDir(dataDir)).untraversableAncestor).toBeNull();
    chmodSync(root, 0o700);
    expect((await hardenDataDir(dataDir)).untraversableAncestor).toBe(root);
  });
});

describe('shareDependencyEntry', () => {
  it('opens an entry made after start, counting what it changed', async () => {
    const entry = join(dataDir, 'dependencies', ENTRY);
    chmodSync(entry, 0o700);
    expect(await shareDependencyEntry(entry)).toBeGreaterThan(0);
    expect(statSync(entry).mode & 0o777).toBe(0o755);
    expect(await shareDependencyEntry(entry)).toBe(0);
    expect(await shareDependencyEntry(join(dataDir, 'dependencies/none'))).toBe(0);
  });
});
