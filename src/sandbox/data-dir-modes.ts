/**
 * Modes of the executor's data dir, for droplets that run as another user. A droplet
 * must reach its own release and the dependency store entries its node_modules link
 * points at, and nothing else: DATA_DIR, `deployments` and `dependencies` are 0711
 * (traversed by name, never listed), a store entry is readable, and everything else
 * directly under DATA_DIR is the executor's alone (0700 directories, 0600 files:
 * executor.db and its -wal/-shm, repos, the store's staging and manifests, run…).
 *
 * Inside bubblewrap the masks hide all of this anyway; these modes are what protects it
 * when bubblewrap is unavailable and a droplet runs as a plain process of the runner
 * user. Idempotent; links are never followed (chmod on a link would change its target),
 * so a link planted in the data dir is left as it is.
 */
import { chmod, lstat, readdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Stats } from 'node:fs';

/** Traversed by the droplet user on the way to its release or a dependency entry. */
const TRAVERSED = 0o711;
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
const READABLE_DIR = 0o755;
const READABLE_FILE = 0o644;
/** A dependency store entry: `<24 hex>/`, holding node_modules and its lockfile. */
const STORE_ENTRY = /^[0-9a-f]{24}$/;

export interface DataDirHardening {
  /** How many modes were changed (0 when everything already was as it should be). */
  changed: number;
  /**
   * The nearest ancestor of DATA_DIR that other users cannot traverse (no x for others),
   * or null: with one, a droplet running as another user cannot reach its release at all.
   */
  untraversableAncestor: string | null;
}

const lstatOrNull = (path: string): Promise<Stats | null> => lstat(path).catch(() => null);

/** Sets `mode` on `path` unless it already has it; counts changes. Never follows a link. */
async function setMode(path: string, stats: Stats, mode: number, counter: { changed: number }): Promise<void> {
  if (stats.isSymbolicLink() || (stats.mode & 0o7777) === mode) return;
  await chmod(path, mode);
  counter.changed += 1;
}

/** 0700 for a directory, 0600 for anything else that is not a link. */
const privateMode = (stats: Stats) => (stats.isDirectory() ? PRIVATE_DIR : PRIVATE_FILE);

/** Group and others lose write: a droplet user must not change a tree every droplet and build shares. */
const shareable = (mode: number) => mode & 0o7777 & ~0o022;

/**
 * Makes one dependency store entry readable by droplets: its directory, its node_modules
 * tree and its lockfile: directories 0755, files 0644 (0755 when executable), nothing
 * writable but by the executor. Call it too for an entry made after the executor
 * started, before a droplet running as another user links to it. Returns how many modes
 * it changed.
 *
 * An entry whose directory is 0755 already is not walked: the directory is set last, so
 * it is 0755 only once the walk finished, or when the entry was made under a umask of
 * 022, where npm's trees are 0755/0644 anyway. Walking every entry at every start would
 * cost about a second per 17,000 files.
 */
export async function shareDependencyEntry(entryDir: string, counter = { changed: 0 }): Promise<number> {
  const walk = async (path: string, stats: Stats): Promise<void> => {
    if (stats.isDirectory()) {
      for (const name of await readdir(path)) {
        const child = join(path, name);
        const childStats = await lstatOrNull(child);
        if (childStats) await walk(child, childStats);
      }
      await setMode(path, stats, shareable(stats.mode) | READABLE_DIR, counter);
    } else if (stats.isFile()) {
      const executable = stats.mode & 0o100 ? 0o011 : 0;
      await setMode(path, stats, shareable(stats.mode) | READABLE_FILE | executable, counter);
    }
  };
  const stats = await lstatOrNull(entryDir);
  if (stats?.isDirectory() && (stats.mode & 0o7777) !== READABLE_DIR) await walk(entryDir, stats);
  return counter.changed;
}

/** `dependencies/`: traversable; entries readable; the store's staging dirs and manifests private. */
async function hardenDependencyStore(root: string, counter: { changed: number }): Promise<void> {
  for (const name of await readdir(root)) {
    const path = join(root, name);
    const stats = await lstatOrNull(path);
    if (!stats || stats.isSymbolicLink()) continue;
    if (stats.isDirectory() && STORE_ENTRY.test(name)) await shareDependencyEntry(path, counter);
    else await setMode(path, stats, privateMode(stats), counter);
  }
}

/** The nearest ancestor of `dir` without x for others, or null. */
async function untraversableAncestor(dir: string): Promise<string | null> {
  for (let path = dirname(dir); ; path = dirname(path)) {
    const stats = await lstatOrNull(path);
    if (stats && !stats.isSymbolicLink() && (stats.mode & 0o001) === 0) return path;
    if (path === dirname(path)) return null;
  }
}

/**
 * Applies the modes above to `dataDir` (its real path: the operator may point DATA_DIR at
 * a link), and makes each of `secretFiles` (the executor's `.env`) 0600 when it is a
 * regular file. Run at every executor start, once the database is open (so executor.db
 * exists; SQLite gives its -wal and -shm the database's mode).
 */
export async function hardenDataDir(dataDir: string, options: { secretFiles?: readonly string[] } = {}): Promise<DataDirHardening> {
  const root = await realpath(dataDir);
  const counter = { changed: 0 };
  await setMode(root, await lstat(root), TRAVERSED, counter);
  for (const name of await readdir(root)) {
    const path = join(root, name);
    const stats = await lstatOrNull(path);
    if (!stats || stats.isSymbolicLink()) continue;
    if (stats.isDirectory() && name === 'deployments') await setMode(path, stats, TRAVERSED, counter);
    else if (stats.isDirectory() && name === 'dependencies') {
      await setMode(path, stats, TRAVERSED, counter);
      await hardenDependencyStore(path, counter);
    } else await setMode(path, stats, privateMode(stats), counter);
  }
  for (const file of options.secretFiles ?? []) {
    const stats = await lstatOrNull(file);
    if (stats?.isFile()) await setMode(file, stats, PRIVATE_FILE, counter);
  }
  return { changed: counter.changed, untraversableAncestor: await untraversableAncestor(root) };
}
