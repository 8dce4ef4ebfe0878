/**
 * The dependency store with the real verifier, npm and the offline droplet: a tree is
 * installed once; a second droplet pinning the same packages, and the first one verified
 * again, install nothing, run against the stored tree, and pass.
 */
import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFoundationFiles } from '../../src/authors/foundation.js';
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import { DependencyStore } from '../../src/sandbox/dependency-store.js';
import { ProcessSandbox } from '../../src/sandbox/process-sandbox.js';
import { DropletVerifier } from '../../src/verify/verifier.js';

const INTENT = 'Build a bookmark service that stores links with tags';
let root: string;
let store: DependencyStore;
let verifier: DropletVerifier;

async function writeDroplet(name: string, dropletId: number): Promise<{ dir: string; proof: { openapi: string; acceptance: string } }> {
  const dir = join(root, name);
  const author = new OfflineAuthor();
  const droplet = { dropletId, name };
  const signal = new AbortController().signal;
  const foundation = await loadFoundationFiles();
  const spec = await author.writeSpec({ intent: INTENT, droplet, foundation }, { signal });
  for (const change of await author.writeCode({ intent: INTENT, droplet, spec: spec.markdown, foundation }, { signal })) {
    if (change.kind !== 'write') continue;
    await mkdir(dirname(join(dir, change.path)), { recursive: true });
    await writeFile(join(dir, change.path), change.content);
  }
  return { dir, proof: { openapi: spec.openapi, acceptance: spec.acceptance } };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dependency-store-'));
  store = new DependencyStore(join(root, 'dependencies'));
  const sandbox = new ProcessSandbox({ baseEnv: process.env, homeDir: join(root, 'home'), npmCacheDir: join(root, 'npm-cache'), killGraceMs: 1_000 });
  verifier = new DropletVerifier({ sandbox, dependencies: store, installTimeoutMs: 120_000, testTimeoutMs: 60_000, startTimeoutMs: 20_000 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('verification with a dependency store', () => {
  it('installs a tree once, then every droplet pinning the same packages runs against it with nothing installed', async () => {
    const first = await writeDroplet('bookmark-keeper', 1);
    const signal = new AbortController().signal;
    const installed = await verifier.verify(first.dir, { dropletId: 1, name: 'bookmark-keeper' }, { signal, proof: first.proof });
    expect(installed.summary).toMatch(/passed/);
    expect(installed.install?.exitCode).toBe(0);
    expect(installed.dependencies).toEqual({ key: expect.stringMatching(/^[0-9a-f]{24}$/) as unknown, reused: false });
    const key = installed.dependencies!.key;
    // The install moved into the store; a plain process (not isolated) works on a copy of it, never the entry itself.
    expect(lstatSync(join(first.dir, 'node_modules')).isSymbolicLink()).toBe(false);
    expect(existsSync(join(first.dir, 'node_modules', 'fastify', 'package.json'))).toBe(true);
    expect(existsSync(join(store.modulesOf(key), 'fastify', 'package.json'))).toBe(true);
    expect((await readdir(join(root, 'dependencies'))).filter((entry) => !entry.startsWith('.')).sort()).toEqual([key, 'manifests']);

    const second = await writeDroplet('link-shelf', 2);
    expect(existsSync(join(second.dir, 'package-lock.json'))).toBe(false);
    const progress: string[] = [];
    const reused = await verifier.verify(second.dir, { dropletId: 2, name: 'link-shelf' }, { signal, proof: second.proof, onProgress: (message) => progress.push(message) });
    expect(reused.summary).toMatch(/passed/);
    expect(reused.install).toBeUndefined();
    expect(reused.dependencies).toEqual({ key, reused: true });
    expect(progress).toContain(`Dependencies reused from the store (lockfile tree ${key}); nothing installed.`);
    // The stored lockfile became the second droplet's own, naming it.
    const lock = JSON.parse(readFileSync(join(second.dir, 'package-lock.json'), 'utf8')) as { name: string; packages: Record<string, { name?: string }> };
    expect(lock.name).toBe('link-shelf');
    expect(lock.packages['']!.name).toBe('link-shelf');
    expect(Object.keys(lock.packages)).toContain('node_modules/fastify');

    const again = await verifier.verify(first.dir, { dropletId: 1, name: 'bookmark-keeper' }, { signal, proof: first.proof });
    expect(again).toMatchObject({ passed: true, dependencies: { key, reused: true } });
    expect(again.install).toBeUndefined();
  }, 240_000);

  it('installs again when the lockfile names a tree the store does not have', async () => {
    const droplet = await writeDroplet('tag-cloud', 3);
    const manifest = JSON.parse(readFileSync(join(droplet.dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    // A range, not a pin: the manifest alone says nothing certain of the tree.
    manifest.dependencies.fastify = `^${manifest.dependencies.fastify}`;
    await writeFile(join(droplet.dir, 'package.json'), JSON.stringify(manifest));
    const report = await verifier.verify(droplet.dir, { dropletId: 3, name: 'tag-cloud' }, { signal: new AbortController().signal, proof: droplet.proof });
    expect(report.install?.exitCode).toBe(0);
    expect(report.passed).toBe(true);
  }, 240_000);

  it('never adopts a package planted in node_modules before the install, nor remembers a tree resolved from a lockfile it was handed (security review)', async () => {
    const droplet = await writeDroplet('planted-tree', 4);
    // The planted package claims to be the real one; npm would keep it as installed.
    await mkdir(join(droplet.dir, 'node_modules', 'left-pad'), { recursive: true });
    await writeFile(join(droplet.dir, 'node_modules', 'left-pad', 'index.js'), 'EVIL\n');
    const manifest = JSON.parse(readFileSync(join(droplet.dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    manifest.overrides = { 'left-pad': '1.3.0' };
    await writeFile(join(droplet.dir, 'package.json'), JSON.stringify(manifest));
    const report = await verifier.verify(droplet.dir, { dropletId: 4, name: 'planted-tree' }, { signal: new AbortController().signal, proof: droplet.proof });
    expect(report.install?.exitCode).toBe(0);
    expect(existsSync(join(store.modulesOf(report.dependencies!.key), 'left-pad'))).toBe(false);
  }, 240_000);

  it('does not write the stored lockfile through a link planted in its place', async () => {
    const droplet = await writeDroplet('linked-lock', 5);
    const outside = join(root, 'outside-target.json');
    symlinkSync(outside, join(droplet.dir, 'package-lock.json'));
    expect(await store.find(droplet.dir)).toBeNull();
    expect(existsSync(outside)).toBe(false);
  });
});
