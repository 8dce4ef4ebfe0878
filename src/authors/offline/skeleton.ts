/**
 * The droplet skeleton: the generated droplet's code and tests as real files in the
 * project's `droplet-skeleton/` folder (linted and type-checked there), generic over
 * the `src/plan.json` each droplet gets. Only `src/` and `test/` are shipped; the
 * folder's tsconfig is the executor's, not the droplet's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RepoFile } from '../../domain/files.js';

/**
 * This module sits three levels below the project root both as source
 * (`src/authors/offline/`, run by tsx or vitest) and compiled (`dist/authors/offline/`),
 * so one relative URL serves both, as for `foundation-files/`.
 */
export const SKELETON_DIR = fileURLToPath(new URL('../../../droplet-skeleton/', import.meta.url));
const SHIPPED_FOLDERS = ['src', 'test'] as const;

let cached: readonly RepoFile[] | undefined;

function filesUnder(root: string, relative: string): RepoFile[] {
  const found: RepoFile[] = [];
  for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
    const path = `${relative}/${entry.name}`;
    // Links are neither followed nor shipped: the folder is ours, links would only add surprises.
    if (entry.isDirectory()) found.push(...filesUnder(root, path));
    else if (entry.isFile()) found.push({ path, content: readFileSync(join(root, path), 'utf8') });
  }
  return found;
}

/** Every shipped skeleton file, read once, with `/`-separated paths. */
export function skeletonFiles(dir: string = SKELETON_DIR): readonly RepoFile[] {
  if (dir !== SKELETON_DIR) return SHIPPED_FOLDERS.flatMap((folder) => filesUnder(dir, folder));
  cached ??= SHIPPED_FOLDERS.flatMap((folder) => filesUnder(dir, folder));
  return cached;
}
