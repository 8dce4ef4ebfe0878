/** The standards every droplet is built against, as handed to authors. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FoundationFile } from '../domain/ports/author.js';

/**
 * The project's `foundation-files/` folder. This module sits two levels below the
 * project root both as source (`src/authors/`, run by tsx or vitest) and compiled
 * (`dist/authors/`), so one relative URL serves both.
 */
export const FOUNDATION_DIR = fileURLToPath(new URL('../../foundation-files/', import.meta.url));

async function markdownFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    const full = join(dir, entry.name);
    // Symlinks are neither followed nor read: the folder is ours, links would only add surprises.
    if (entry.isDirectory()) found.push(...(await markdownFilesUnder(full)));
    else if (entry.isFile() && entry.name.endsWith('.md')) found.push(full);
  }
  return found;
}

/** Every `*.md` under `dir`, recursively, with `/`-separated relative paths, sorted by path. */
export async function loadFoundationFiles(dir: string = FOUNDATION_DIR): Promise<FoundationFile[]> {
  const files = await markdownFilesUnder(dir);
  const loaded = await Promise.all(
    files.map(async (file) => ({
      path: relative(dir, file).split(sep).join('/'),
      content: await readFile(file, 'utf8'),
    })),
  );
  // Code-unit order, not locale order: the same folder must give the same list everywhere.
  return loaded.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
