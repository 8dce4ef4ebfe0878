/** File access inside a droplet repository that never follows a link out of it. */
import { constants } from 'node:fs';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UnsafePathError } from '../errors.js';

/** Generated files larger than this are scanned only up to it. */
const SCAN_LIMIT_BYTES = 8 * 1024 * 1024;

export async function writeNoFollow(target: string, content: string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  // A link inside the repository is replaced by the file rather than written through.
  const existing = await lstat(target).catch(() => null);
  if (existing?.isSymbolicLink()) await unlink(target);
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}

export async function readForScan(absolute: string): Promise<string | null> {
  const stat = await lstat(absolute).catch(() => null);
  if (!stat?.isFile()) return null;
  const handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buffer = Buffer.alloc(Math.min(stat.size, SCAN_LIMIT_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
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
