/**
 * Installed dependencies, kept once per resolved dependency tree and shared read-only:
 * `<root>/<key>/node_modules`, where the key hashes what `package-lock.json` resolved
 * (every package but the droplet itself, so two droplets with the same dependencies
 * share one entry) and the node version and platform that installed it. An entry is
 * made by moving a finished install into place with one rename, and never changes after.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularFile } from '../support/files.js';

const LOCKFILE = 'package-lock.json';
const MODULES = 'node_modules';
/** A lockfile of a few hundred packages is well under this. */
const MAX_LOCKFILE_BYTES = 8 * 1024 * 1024;

const exists = (path: string) => stat(path).then(() => true, () => false);
/** Whether anything, a link (even a dangling one) included, is at `path`. */
const occupied = (path: string) => lstat(path).then(() => true, () => false);
/** Manifest fields that change what a pinned manifest resolves to: with any of them, no alias. */
const RESOLUTION_FIELDS = ['overrides', 'resolutions', 'bundleDependencies', 'bundledDependencies', 'peerDependencies', 'workspaces'];

/** The key of the tree a lockfile resolves, or null without a readable lockfile of lockfileVersion 2 or 3. */
export async function dependencyKey(workdir: string): Promise<string | null> {
  const read = await readRegularFile(join(workdir, LOCKFILE), { maxBytes: MAX_LOCKFILE_BYTES, within: workdir });
  if (read.status !== 'read') return null;
  let packages: unknown;
  try {
    packages = (JSON.parse(read.content.toString('utf8')) as { packages?: unknown } | null)?.packages;
  } catch {
    return null;
  }
  if (packages === null || typeof packages !== 'object') return null;
  // The root entry ("") is the droplet itself: its name and version say nothing of node_modules.
  const tree = Object.entries(packages).filter(([path]) => path !== '').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const hash = createHash('sha256').update(JSON.stringify([process.version, process.platform, process.arch, tree])).digest('hex');
  return hash.slice(0, 24);
}

const EXACT_VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;

async function readJson(workdir: string, file: string): Promise<Record<string, unknown> | null> {
  const read = await readRegularFile(join(workdir, file), { maxBytes: MAX_LOCKFILE_BYTES, within: workdir });
  if (read.status !== 'read') return null;
  try {
    const value: unknown = JSON.parse(read.content.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * For a workspace with no lockfile yet: a key of its manifest's dependencies when every
 * one is pinned to an exact version (as generated droplets pin them), else null. The
 * tree such a manifest installed once is the tree it installs again.
 */
export async function manifestKey(workdir: string): Promise<string | null> {
  const manifest = await readJson(workdir, 'package.json');
  if (!manifest || RESOLUTION_FIELDS.some((field) => manifest[field] !== undefined)) return null;
  const declared = ['dependencies', 'devDependencies', 'optionalDependencies'].map((field) => {
    const value = manifest[field];
    return value !== null && typeof value === 'object' ? Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)) : [];
  });
  if (!declared.flat().every(([, version]) => typeof version === 'string' && EXACT_VERSION.test(version))) return null;
  return createHash('sha256').update(JSON.stringify([process.version, process.platform, process.arch, declared])).digest('hex').slice(0, 24);
}

/** The stored lockfile, made the workspace's own: its root names this droplet. */
function lockfileFor(stored: Record<string, unknown>, manifest: Record<string, unknown>): string {
  const packages = { ...(stored.packages as Record<string, Record<string, unknown>>) };
  packages[''] = { ...packages[''], name: manifest.name, version: manifest.version };
  return `${JSON.stringify({ ...stored, name: manifest.name, version: manifest.version, packages }, null, 2)}\n`;
}

export class DependencyStore {
  constructor(readonly root: string) {}

  /** Where the entry of `key` lives (whether or not it exists). */
  modulesOf(key: string): string {
    return join(this.root, key, MODULES);
  }

  /**
   * The installed tree the workspace's lockfile names, when the store has it. Without a
   * lockfile, the tree its exactly pinned manifest installed before, whose lockfile is
   * then written into the workspace (to be committed) with the droplet's own name.
   */
  async find(workdir: string): Promise<{ key: string; modules: string } | null> {
    const key = (await dependencyKey(workdir)) ?? (await this.lockFromManifest(workdir));
    if (!key) return null;
    const modules = this.modulesOf(key);
    return (await exists(modules)) ? { key, modules } : null;
  }

  private async lockFromManifest(workdir: string): Promise<string | null> {
    if (await occupied(join(workdir, LOCKFILE))) return null;
    const alias = await manifestKey(workdir);
    const key = alias ? await readFile(join(this.root, 'manifests', alias), 'utf8').catch(() => null) : null;
    if (!key || !/^[0-9a-f]{24}$/.test(key)) return null;
    const [stored, manifest] = await Promise.all([readJson(join(this.root, key), LOCKFILE), readJson(workdir, 'package.json')]);
    if (!stored || !manifest || typeof stored.packages !== 'object') return null;
    // `wx`: created here or not at all, never written through a link the droplet planted meanwhile.
    await writeFile(join(workdir, LOCKFILE), lockfileFor(stored, manifest), { flag: 'wx' });
    return key;
  }

  /**
   * Empties the workspace's `node_modules` before an install whose result will be adopted:
   * npm keeps a package it finds there as installed, so a planted one would reach the store.
   */
  async prepareInstall(workdir: string): Promise<void> {
    await rm(join(workdir, MODULES), { recursive: true, force: true });
  }

  /**
   * Takes the workspace's freshly installed `node_modules` (made after `prepareInstall`)
   * into the store under its lockfile's key (moved, not copied). When the entry already
   * exists (another build installed the same tree meanwhile), the workspace's copy is
   * removed instead. `remember`: the install resolved the manifest alone (there was no
   * lockfile before it), so the tree may be handed to other manifests pinning the same.
   * Returns the entry, or null when there is no lockfile or nothing installed.
   */
  async adopt(workdir: string, { remember }: { remember: boolean }): Promise<{ key: string; modules: string } | null> {
    const key = await dependencyKey(workdir);
    const installed = join(workdir, MODULES);
    const entry = await lstat(installed).catch(() => null);
    if (!key || !entry?.isDirectory()) return null;
    const modules = this.modulesOf(key);
    const alias = remember ? await manifestKey(workdir) : null;
    if (!(await exists(modules))) {
      // Into a private directory first, then one rename: readers see a whole entry or none.
      const staging = join(this.root, `.staging-${randomBytes(6).toString('hex')}`);
      await mkdir(staging, { recursive: true });
      const lockfile = await readRegularFile(join(workdir, LOCKFILE), { maxBytes: MAX_LOCKFILE_BYTES, within: workdir });
      if (lockfile.status !== 'read') return null;
      await writeFile(join(staging, LOCKFILE), lockfile.content);
      await rename(installed, join(staging, MODULES));
      await rename(staging, join(this.root, key)).catch(async (error: NodeJS.ErrnoException) => {
        // Someone else's rename won: theirs is the same tree.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
        await rm(staging, { recursive: true, force: true });
      });
    } else {
      await rm(installed, { recursive: true, force: true });
    }
    if (alias) await this.remember(alias, key);
    return { key, modules };
  }

  /** Which tree a pinned manifest resolved to; written whole or not at all. */
  private async remember(alias: string, key: string): Promise<void> {
    const dir = join(this.root, 'manifests');
    await mkdir(dir, { recursive: true });
    const staging = join(dir, `.${alias}-${randomBytes(6).toString('hex')}`);
    await writeFile(staging, key);
    await rename(staging, join(dir, alias));
  }
}
