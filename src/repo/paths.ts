/**
 * The one place that turns an untrusted relative path (from a model, an author or a
 * request) into a safe one inside a root directory. Everything that writes, reads or
 * deletes a file in a droplet's repository goes through `resolveSafePath` first.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { FileChange } from '../domain/files.js';
import { StepError, UnsafePathError } from '../domain/errors.js';

export const MAX_PATH_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;
export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_FILES_PER_CHANGE = 500;

export interface SafePath {
  /** Normalised, `/`-separated, relative to the root; never empty, never `..`. */
  relative: string;
  /** `path.resolve(root)` joined with `relative`. */
  absolute: string;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused in paths
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const WINDOWS_DRIVE = /^[A-Za-z]:/;
/** Characters HFS+ ignores in names, so `.g\u200cit` is `.git` there (git's own list). */
const HFS_IGNORABLE = /[\u200b-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g;

/**
 * Whether a segment names the git directory on some filesystem: `.git` in any case,
 * `.git` with the trailing dots/spaces Windows drops, the NTFS short name `git~1`,
 * or `.git` spelled with characters HFS+ ignores.
 */
function isGitDirName(segment: string): boolean {
  const folded = segment.replace(HFS_IGNORABLE, '').replace(/[. ]+$/, '').toLowerCase();
  return folded === '.git' || folded === 'git~1';
}

function realpathOrNull(target: string): string | null {
  try {
    return realpathSync(target);
  } catch {
    return null;
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Rejects a path whose existing parts lead outside the root through a symlink, or
 * into the root's `.git` through one. A dangling symlink is refused too: writing
 * through it would create its (unchecked) target.
 */
function assertNoSymlinkEscape(root: string, segments: readonly string[], shown: string): void {
  const realRoot = realpathOrNull(root);
  if (realRoot === null) return; // the root does not exist yet: nothing under it can be a link
  let current = root;
  for (const segment of segments) {
    current = path.join(current, segment);
    let isLink: boolean;
    try {
      isLink = lstatSync(current).isSymbolicLink();
    } catch {
      return; // this part does not exist, so nothing below it does either
    }
    if (!isLink) continue;
    const resolved = realpathOrNull(current);
    if (resolved === null) throw new UnsafePathError(shown, 'it passes through a dangling symbolic link');
    if (!isInside(realRoot, resolved)) throw new UnsafePathError(shown, 'a symbolic link in it points outside the repository');
    if (path.relative(realRoot, resolved).split(path.sep).some(isGitDirName)) {
      throw new UnsafePathError(shown, 'a symbolic link in it points into .git');
    }
  }
}

/**
 * Resolves `untrusted` against `root`. Throws `UnsafePathError` for anything that is
 * empty, has control characters, is absolute (posix, drive letter or UNC), leaves the
 * root after normalising, touches `.git`, is too long, or escapes through a symlink.
 * Backslashes are treated as separators, so `a\..\..\x` is the escape it looks like.
 */
export function resolveSafePath(root: string, untrusted: string): SafePath {
  if (typeof untrusted !== 'string' || untrusted.trim() === '') throw new UnsafePathError(String(untrusted ?? ''), 'it is empty');
  const shown = untrusted.length > 200 ? `${untrusted.slice(0, 200)}…` : untrusted;
  if (CONTROL_CHARS.test(untrusted)) throw new UnsafePathError(shown.replace(CONTROL_CHARS, '?'), 'it contains NUL or control characters');
  if (Buffer.byteLength(untrusted) > MAX_PATH_BYTES) throw new UnsafePathError(shown, `it is longer than ${MAX_PATH_BYTES} bytes`);
  if (untrusted.startsWith('\\\\')) throw new UnsafePathError(shown, 'it is a UNC path');
  if (untrusted.startsWith('/') || untrusted.startsWith('\\')) throw new UnsafePathError(shown, 'it is absolute');
  if (WINDOWS_DRIVE.test(untrusted)) throw new UnsafePathError(shown, 'it starts with a Windows drive letter');

  const raw = untrusted.replace(/\\/g, '/').split('/');
  const normalised: string[] = [];
  for (const segment of raw) {
    if (segment === '' || segment === '.') continue;
    if (isGitDirName(segment)) throw new UnsafePathError(shown, 'it touches the .git directory');
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw new UnsafePathError(shown, `a part of it is longer than ${MAX_SEGMENT_BYTES} bytes`);
    if (segment === '..') {
      if (normalised.length === 0) throw new UnsafePathError(shown, 'it escapes the repository');
      normalised.pop();
      continue;
    }
    normalised.push(segment);
  }
  if (normalised.length === 0) throw new UnsafePathError(shown, 'it names the repository root, not a file');

  const base = path.resolve(root);
  assertNoSymlinkEscape(base, normalised, shown);
  const relative = normalised.join('/');
  return { relative, absolute: path.join(base, ...normalised) };
}

/**
 * A path an author may write or delete: not inside a `node_modules` (any case, at any
 * depth). Installed dependencies are the installer's and the dependency store's; a
 * planted package there would be taken for an installed one, and could reach the store.
 */
export function assertAuthorWritable(target: SafePath, untrusted: string): void {
  if (target.relative.split('/').some((segment) => segment.toLowerCase() === 'node_modules')) {
    throw new UnsafePathError(untrusted.length > 200 ? `${untrusted.slice(0, 200)}…` : untrusted, 'it is inside node_modules, which only the installer writes');
  }
}

/** Refuses change sets over the file-count or per-file size limits (before anything is written). */
export function assertFileLimits(changes: readonly FileChange[]): void {
  if (changes.length > MAX_FILES_PER_CHANGE) {
    throw new StepError('FILE_LIMIT', `A change set may hold at most ${MAX_FILES_PER_CHANGE} files; this one has ${changes.length}.`, {
      files: changes.length,
      limit: MAX_FILES_PER_CHANGE,
    });
  }
  for (const change of changes) {
    if (change.kind !== 'write') continue;
    const bytes = Buffer.byteLength(change.content);
    if (bytes > MAX_FILE_BYTES) {
      throw new StepError('FILE_LIMIT', `File "${change.path.slice(0, 200)}" is ${bytes} bytes; the limit is ${MAX_FILE_BYTES}.`, {
        path: change.path.slice(0, 200),
        bytes,
        limit: MAX_FILE_BYTES,
      });
    }
  }
}
