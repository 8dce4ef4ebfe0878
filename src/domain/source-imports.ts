/**
 * Which repository files a JavaScript or TypeScript source imports: the relative
 * specifiers of `import … from`, `import '…'`, `export … from`, `import('…')` and
 * `require('…')`, resolved the way node and TypeScript do for a small project
 * (extension, `.js` standing for `.ts`, `index` files). Comments are skipped; a string
 * that only looks like an import may be read as one, which at worst shows a repair one
 * more file. Bare specifiers (packages, `node:` builtins) are not repository files.
 */
import { posix } from 'node:path';

/** Comments blanked out (strings and templates kept), line breaks kept so line numbers still match. */
export function withoutComments(source: string): string {
  let out = '';
  let at = 0;
  while (at < source.length) {
    const char = source[at]!;
    const next = source[at + 1];
    if (char === '/' && next === '/') {
      while (at < source.length && source[at] !== '\n') at += 1;
      continue;
    }
    if (char === '/' && next === '*') {
      const end = source.indexOf('*/', at + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(at, stop).replace(/[^\n]/g, ' ');
      at = stop;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') {
      const stop = stringEnd(source, at, char);
      out += source.slice(at, stop);
      at = stop;
      continue;
    }
    out += char;
    at += 1;
  }
  return out;
}

/** Where a string starting at `start` ends (after its closing quote); quotes end at a line break, templates do not. */
function stringEnd(source: string, start: number, quote: string): number {
  let at = start + 1;
  while (at < source.length) {
    const char = source[at]!;
    if (char === '\\') at += 2;
    else if (char === quote) return at + 1;
    else if (char === '\n' && quote !== '`') return at;
    else at += 1;
  }
  return source.length;
}

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[\w$*{}\s,]*?\bfrom\s*(['"])([^'"\n]+)\1/g,
  /\bimport\s*(['"])([^'"\n]+)\1/g,
  /\b(?:import|require)\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];

/** The relative specifiers a source names (`./x.js`, `../lib/y`), each once, in order of appearance. */
export function relativeSpecifiers(source: string): string[] {
  const code = withoutComments(source);
  const found: Array<{ at: number; specifier: string }> = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of code.matchAll(pattern)) {
      const specifier = match[2]!;
      if (specifier.startsWith('./') || specifier.startsWith('../')) found.push({ at: match.index, specifier });
    }
  }
  return [...new Set(found.sort((a, b) => a.at - b.at).map((entry) => entry.specifier))];
}

const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.jsx', '.tsx', '.json'];
const TS_FOR_JS: Readonly<Record<string, string[]>> = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'], '.jsx': ['.tsx'] };

/** The repository file `specifier` names from `importer`, or null when it names none (or leaves the repository). */
export function resolveSpecifier(importer: string, specifier: string, files: ReadonlySet<string>): string | null {
  const target = posix.normalize(posix.join(posix.dirname(importer), specifier.split(/[?#]/)[0]!));
  if (target === '..' || target.startsWith('../') || posix.isAbsolute(target)) return null;
  const extension = posix.extname(target);
  const stem = target.slice(0, target.length - extension.length);
  const candidates = [
    target,
    ...(TS_FOR_JS[extension] ?? []).map((ts) => stem + ts),
    ...EXTENSIONS.map((ext) => target + ext),
    ...EXTENSIONS.map((ext) => `${target}/index${ext}`),
  ];
  return candidates.find((candidate) => files.has(candidate)) ?? null;
}

/** The repository files a source imports, resolved, each once. */
export function importedFiles(importer: string, source: string, files: ReadonlySet<string>): string[] {
  const resolved = relativeSpecifiers(source).map((specifier) => resolveSpecifier(importer, specifier, files));
  return [...new Set(resolved.filter((path): path is string => path !== null && path !== importer))];
}

export interface ClosureEntry {
  /** Imports between a root and the file (0 for a root). */
  distance: number;
  /** The file that first imported it; null for a root. */
  via: string | null;
}

/**
 * Files reachable from `roots` through imports, breadth first (nearest first), with
 * their distance and who imported them. `read` gives a file's text, or null.
 */
export function importClosure(roots: readonly string[], read: (path: string) => string | null, files: ReadonlySet<string>, maxDepth = 6): Map<string, ClosureEntry> {
  const closure = new Map<string, ClosureEntry>();
  let frontier = [...new Set(roots.filter((root) => files.has(root)))];
  for (const root of frontier) closure.set(root, { distance: 0, via: null });
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth += 1) {
    const next: string[] = [];
    for (const path of frontier) {
      const source = read(path);
      if (source === null) continue;
      for (const imported of importedFiles(path, source, files)) {
        if (closure.has(imported)) continue;
        closure.set(imported, { distance: depth, via: path });
        next.push(imported);
      }
    }
    frontier = next;
  }
  return closure;
}
