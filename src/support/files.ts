/**
 * File access inside a droplet repository that never follows a link out of it.
 *
 * Sandboxed droplet code can replace any file of its workspace between two reads of the
 * executor (which runs on the host, unsandboxed): with a FIFO (an open or a read that
 * never returns, holding one of libuv's four threadpool threads for good), a link to
 * `/dev/zero` (a read that never ends) or a huge file. `readRegularFile` is the one
 * way the executor reads such a file: it never blocks, never follows the last link and
 * never reads more than its caller's cap, and says why it refused.
 */
import { constants, type Dirent } from 'node:fs';
import { lstat, mkdir, open, readdir, readlink, realpath, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UnsafePathError } from '../domain/errors.js';

/** Generated files larger than this are scanned only up to it. */
const SCAN_LIMIT_BYTES = 8 * 1024 * 1024;
const READ_CHUNK_BYTES = 64 * 1024;
/** Never blocks on a FIFO, never follows a last-component link, never takes a terminal. */
const SAFE_READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

export type ReadRefusalReason = 'symlink' | 'not-regular' | 'too-large' | 'outside' | 'unreadable';

export type RegularFileRead =
  | { status: 'read'; content: Buffer; truncated: boolean }
  | { status: 'missing' }
  /** `why` completes a sentence about the file: `"src/x.js" ${why}`. */
  | { status: 'refused'; reason: ReadRefusalReason; why: string };

export interface RegularFileOptions {
  /** The most bytes read (and held in memory). */
  maxBytes: number;
  /** Past `maxBytes`: refuse the file (default), or return its first `maxBytes` bytes. */
  overLimit?: 'refuse' | 'truncate';
  /** The file opened must really lie inside this directory (no parent swapped for a link meanwhile). */
  within?: string;
}

function kindOf(stat: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'something other than a file';
}

const notRegular = (kind: string): RegularFileRead => ({ status: 'refused', reason: 'not-regular', why: `is ${kind}, not a regular file` });
const tooLarge = (maxBytes: number): RegularFileRead => ({ status: 'refused', reason: 'too-large', why: `is larger than ${maxBytes} bytes` });

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Where the open descriptor really is (Linux), else where the path resolves to now. */
async function openedLocation(fd: number, absolute: string): Promise<string | null> {
  const viaProc = await readlink(`/proc/self/fd/${fd}`).catch(() => null);
  return viaProc ?? (await realpath(absolute).catch(() => null));
}

/**
 * Reads `absolute` only when it is a regular file: opened without following a final
 * link and without blocking, checked with fstat on the descriptor actually opened, and
 * read up to `maxBytes` (memory stays bounded however large the file is or grows).
 * Never throws for what is on disk: a missing file is `missing`, anything else `refused`.
 */
export async function readRegularFile(absolute: string, options: RegularFileOptions): Promise<RegularFileRead> {
  // A device is not even opened (opening some has effects); the fstat below is the real check.
  const before = await lstat(absolute).catch((error: NodeJS.ErrnoException) => error);
  if (before instanceof Error) return failedOpen(before);
  if (before.isSymbolicLink()) return { status: 'refused', reason: 'symlink', why: 'is a symbolic link' };
  if (!before.isFile()) return notRegular(kindOf(before));

  const handle = await open(absolute, SAFE_READ_FLAGS).catch((error: NodeJS.ErrnoException) => error);
  if (handle instanceof Error) return failedOpen(handle);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return notRegular(kindOf(stat));
    const truncate = options.overLimit === 'truncate';
    if (stat.size > options.maxBytes && !truncate) return tooLarge(options.maxBytes);
    if (options.within !== undefined) {
      const [root, location] = await Promise.all([realpath(options.within).catch(() => null), openedLocation(handle.fd, absolute)]);
      if (root === null || location === null || !isInside(root, location)) {
        return { status: 'refused', reason: 'outside', why: 'resolves to a file outside the repository' };
      }
    }
    // One byte past the cap tells a file that grew since fstat from one that fits.
    const cap = truncate ? options.maxBytes : options.maxBytes + 1;
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < cap) {
      const chunk = Buffer.alloc(Math.min(READ_CHUNK_BYTES, cap - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total > options.maxBytes) return tooLarge(options.maxBytes);
    const truncated = truncate && total === options.maxBytes && stat.size > options.maxBytes;
    return { status: 'read', content: Buffer.concat(chunks, total), truncated };
  } catch (error) {
    return { status: 'refused', reason: 'unreadable', why: `could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  } finally {
    await handle.close();
  }
}

function failedOpen(error: NodeJS.ErrnoException): RegularFileRead {
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { status: 'missing' };
    case 'ELOOP':
      return { status: 'refused', reason: 'symlink', why: 'is a symbolic link' };
    case 'ENXIO':
      return notRegular('a socket or device');
    default:
      return { status: 'refused', reason: 'unreadable', why: `could not be read (${error.code ?? 'error'})` };
  }
}

/** Text of a generated file for the secret scan (its first 8 MiB); null when it is not a regular file. */
export async function readForScan(absolute: string): Promise<string | null> {
  const read = await readRegularFile(absolute, { maxBytes: SCAN_LIMIT_BYTES, overLimit: 'truncate' });
  return read.status === 'read' ? read.content.toString('utf8') : null;
}

export async function writeNoFollow(target: string, content: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  // A link, FIFO or socket in the repository is replaced by the file rather than written through
  // (opening a FIFO to write would wait for a reader forever).
  const existing = await lstat(target).catch(() => null);
  if (existing && !existing.isFile() && !existing.isDirectory()) await unlink(target);
  // O_NONBLOCK: one planted meanwhile fails the open (ENXIO) instead of hanging it.
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY, 0o644);
  try {
    if (!(await handle.stat()).isFile()) throw new UnsafePathError(path.basename(target), 'it is not a regular file');
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Removes every FIFO, socket and device under `root`, which git neither tracks nor
 * cleans, so droplet code cannot leave one for the host to trip over. Links are not
 * followed; `skip` names root-level entries left alone (`.git`, `node_modules`).
 */
export async function removeSpecialFiles(root: string, skip: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const relative = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(root, relative), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (relative === '' && skip.has(entry.name)) continue;
      if (entry.isDirectory()) pending.push(child);
      else if (!entry.isFile() && !entry.isSymbolicLink()) {
        await unlink(path.join(root, child)).catch(() => undefined);
        removed.push(child);
      }
    }
  }
  return removed;
}

/**
 * A write through a link to a directory inside the repository would land on disk at
 * one path and in git at another: refused, like `git add` refuses it.
 */
export async function refuseLinkedParents(root: string, relative: string): Promise<void> {
  const segments = relative.split('/').slice(0, -1);
  let current = root;
  for (const segment of segments) {
    current = path.join(current, segment);
    const stat = await lstat(current).catch(() => null);
    if (!stat) return;
    if (stat.isSymbolicLink()) throw new UnsafePathError(relative, 'it goes through a symbolic link');
  }
}
