/** A release directory: a copy of the verified working copy that one droplet process runs from. */
import { createHash } from 'node:crypto';
import { cp, mkdir, open, readdir, readFile, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { DropletIdentity } from '../domain/build.js';
import { DROPLET_NAME_PATTERN } from '../domain/build.js';
import { StepError } from '../domain/errors.js';
import type { DependencyStore } from '../sandbox/dependency-store.js';
import { readRegularFile } from '../support/files.js';

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const DEFAULT_ENTRY = 'src/server.js';
export const LOG_FILE = 'droplet.log';

/** Beside the releases in a droplet's directory: its module stores and its records. */
const DROPLET_FOLDERS = new Set(['modules', 'data']);

/** `${dataDir}/deployments/<id>-<name>`, the identity checked as a single path segment. */
function dropletDirFor(dataDir: string, droplet: DropletIdentity): string {
  if (!Number.isInteger(droplet.dropletId) || droplet.dropletId < 1 || !DROPLET_NAME_PATTERN.test(droplet.name)) {
    throw new StepError('DEPLOY_INVALID_RELEASE', `Droplet ${droplet.dropletId} "${droplet.name}" is not a valid identity.`);
  }
  return resolve(dataDir, 'deployments', `${droplet.dropletId}-${droplet.name}`);
}

/** `${dataDir}/deployments/<id>-<name>/<releaseId>`; both parts are checked as single path segments. */
export function releaseDirFor(dataDir: string, droplet: DropletIdentity, releaseId: string): string {
  const dropletDir = dropletDirFor(dataDir, droplet);
  if (!SAFE_SEGMENT.test(releaseId) || releaseId.includes('..') || DROPLET_FOLDERS.has(releaseId)) {
    throw new StepError('DEPLOY_INVALID_RELEASE', `Release id "${releaseId}" is not a safe directory name.`);
  }
  return join(dropletDir, releaseId);
}

/**
 * The droplet's DATA_DIR, `${dataDir}/deployments/<id>-<name>/data`: outside every
 * release, so its records outlive a restart and a redeploy. Made when missing.
 */
export async function dropletDataDirFor(dataDir: string, droplet: DropletIdentity): Promise<string> {
  const path = join(dropletDirFor(dataDir, droplet), 'data');
  await mkdir(path, { recursive: true, mode: 0o700 });
  return path;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * Where a release's installed dependencies live: `<droplet dir>/modules/<lockfile hash>/node_modules`
 * (named node_modules so packages resolved through the link find their own dependencies),
 * shared by every release with the same lockfile. Nothing writes into it once made.
 */
async function modulesStoreFor(sourceDir: string, releaseDir: string): Promise<string> {
  // Read like any file the droplet's code could have replaced (no links, no FIFOs, capped).
  const read = async (file: string) => {
    const result = await readRegularFile(join(sourceDir, file), { maxBytes: 8 * 1024 * 1024, within: sourceDir });
    return result.status === 'read' ? result.content : null;
  };
  const lock = (await read('package-lock.json')) ?? (await read('package.json')) ?? Buffer.from('');
  return join(dirname(releaseDir), 'modules', createHash('sha256').update(lock).digest('hex').slice(0, 16), 'node_modules');
}

/** An installed tree (or a link to one), not the empty mount point a sandboxed run leaves in a workspace. */
async function isInstalledTree(path: string): Promise<boolean> {
  const entry = await stat(path).catch(() => null);
  return entry !== null && entry.isDirectory() && (await readdir(path)).length > 0;
}

/**
 * Makes a fresh release directory from the verified source: the files are copied
 * (`.git` excluded) and `node_modules` is linked to installed dependencies. Those are the
 * dependency store's entry for the source's lockfile, the one verification ran against,
 * when there is one; else the droplet's own modules store, into which the source's
 * node_modules is moved (not copied) the first time a lockfile is seen: copying
 * thousands of small files cost seconds per deploy, a rename nothing.
 */
export async function copyRelease(sourceDir: string, releaseDir: string, dependencies?: DependencyStore): Promise<void> {
  const source = resolve(sourceDir);
  const sourceModules = join(source, 'node_modules');
  await rm(releaseDir, { recursive: true, force: true });
  await mkdir(resolve(releaseDir, '..'), { recursive: true });
  await cp(source, releaseDir, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (path) => basename(path) !== '.git' && path !== sourceModules,
  });
  const stored = await dependencies?.find(source);
  if (stored) {
    await symlink(stored.modules, join(releaseDir, 'node_modules'), 'dir');
    return;
  }
  const store = await modulesStoreFor(source, releaseDir);
  if (!(await exists(store)) && (await isInstalledTree(sourceModules))) {
    await mkdir(dirname(store), { recursive: true });
    await rename(sourceModules, store);
  }
  if (await exists(store)) await symlink(store, join(releaseDir, 'node_modules'), 'dir');
}

/** The entry file from package.json `main` (default src/server.js), which must stay inside the release. */
export async function entryPointOf(releaseDir: string): Promise<string> {
  let main = DEFAULT_ENTRY;
  try {
    const manifest = JSON.parse(await readFile(join(releaseDir, 'package.json'), 'utf8')) as { main?: unknown };
    if (typeof manifest.main === 'string' && manifest.main.trim() !== '') main = manifest.main;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new StepError('DEPLOY_BAD_MANIFEST', 'The droplet package.json could not be read as JSON.');
    }
  }
  const entry = resolve(releaseDir, main);
  if (!entry.startsWith(releaseDir + sep)) {
    throw new StepError('DEPLOY_BAD_ENTRY', `The entry point "${main}" is outside the droplet.`, { main });
  }
  const info = await stat(entry).catch(() => null);
  if (!info?.isFile()) {
    throw new StepError('DEPLOY_BAD_ENTRY', `The entry point "${main}" does not exist.`, { main });
  }
  return entry;
}

/** The last `maxBytes` of the droplet's log, with the given secrets blanked out. */
export async function logTail(releaseDir: string, secrets: readonly string[], maxBytes = 4_096): Promise<string> {
  let handle;
  try {
    handle = await open(join(releaseDir, LOG_FILE), 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    let text = buffer.toString('utf8');
    for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]');
    return text;
  } finally {
    await handle.close();
  }
}
