/**
 * UDC.md: "Tests of a droplet cover all five endpoints." Checked statically, before
 * anything is installed or run, so a droplet that forgets one fails fast with the
 * missing endpoints named for the repair.
 *
 * Method: find the droplet's test files, then read each one's request targets
 * (request-targets.ts: string and template literals that are a path, outside comments,
 * test titles and switched-off tests). An endpoint is covered when some test file
 * requests its path. Why static: it needs no instrumentation of whatever HTTP client
 * or `inject()` the tests use and runs in milliseconds; the droplet's tests still run
 * for real afterwards, so a request that is written but never made still fails them.
 * Limits: the method is not checked (`'/message'` counts for POST /message), and a path
 * assembled from pieces (`'/' + name`) is not seen.
 *
 * Test files: the conventional ones every runner finds by default (anything under a
 * `test/`, `tests/`, `__tests__/` or `spec/` folder; `*.test.*`, `*.spec.*`, `*-test.*`,
 * `*_test.*`, `test-*`, `test.*`), plus whatever files, folders or globs the
 * package's `scripts.test` names. Taking the union never wrongly fails a droplet whose
 * script runs its tests through a custom runner file; `node_modules`, dot-folders and
 * symbolic links are never read. Every file is read through `readRegularFile`: a test file
 * or package.json that droplet code turned into a FIFO, a link or a huge file fails the
 * check with its name rather than hanging or flooding the executor.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { readRegularFile } from '../support/files.js';
import { requestedPaths } from './request-targets.js';
import type { ContractCheck } from '../domain/verification.js';

export const UDC_ENDPOINTS = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/capabilities' },
  { method: 'GET', path: '/state' },
  { method: 'GET', path: '/dependencies' },
  { method: 'POST', path: '/message' },
] as const;

export const TEST_COVERAGE_CHECK = 'tests cover every UDC endpoint';

const SOURCE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const TEST_FOLDER = /(?:^|\/)(?:test|tests|__tests__|spec)\//;
const TEST_FILE_NAME = /^(?:test|spec)\.[^/]+$|[._-](?:test|spec)\.[^/.]+$|^test[-_][^/]+$/;
const MAX_WALKED_ENTRIES = 10_000;
const MAX_TEST_FILES = 300;
const MAX_FILE_BYTES = 1024 * 1024;

/** Every source file of the workspace, repository-relative, skipping node_modules, dot-folders and links. */
async function sourceFiles(workdir: string): Promise<string[]> {
  const found: string[] = [];
  const pending = [''];
  let walked = 0;
  while (pending.length > 0 && walked < MAX_WALKED_ENTRIES) {
    const relative = pending.shift()!;
    let entries: Dirent[];
    try {
      entries = await readdir(join(workdir, relative), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      walked += 1;
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) pending.push(path);
      else if (entry.isFile() && SOURCE_FILE.test(entry.name)) found.push(path);
    }
  }
  return found;
}

/** `test/**\/*.test.js` as a regular expression over repository-relative paths. */
export function globPattern(glob: string): RegExp {
  let pattern = '';
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index]!;
    if (char === '*' && glob[index + 1] === '*') {
      const slash = glob[index + 2] === '/';
      pattern += slash ? '(?:.*/)?' : '.*';
      index += slash ? 2 : 1;
    } else if (char === '*') pattern += '[^/]*';
    else if (char === '?') pattern += '[^/]';
    else if (char === '{') pattern += '(?:';
    else if (char === '}') pattern += ')';
    else if (char === ',') pattern += '|';
    else pattern += char.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern}$`);
}

/** Files, folders and globs named by `scripts.test`, matched against the workspace's files. */
function namedByScript(script: string, files: readonly string[]): string[] {
  const words = script.split(/[\s;&|()]+/).map((word) => word.replace(/^['"]|['"]$/g, '')).filter((word) => word !== '' && !word.startsWith('-'));
  const named = new Set<string>();
  for (const word of words) {
    const normal = posix.normalize(word).replace(/^\.\//, '').replace(/\/+$/, '');
    if (normal.startsWith('..') || normal.startsWith('/')) continue;
    const glob = /[*?{]/.test(normal) ? globPattern(normal) : null;
    for (const file of files) {
      if (glob ? glob.test(file) : file === normal || file.startsWith(`${normal}/`)) named.add(file);
    }
  }
  return [...named];
}

/** `scripts.test` of package.json ('' without one), or why package.json was not read. */
async function testScript(workdir: string): Promise<{ script: string } | { refused: string }> {
  const manifest = await readRegularFile(join(workdir, 'package.json'), { maxBytes: MAX_FILE_BYTES, within: workdir });
  if (manifest.status === 'refused') return { refused: `package.json ${manifest.why}` };
  if (manifest.status === 'missing') return { script: '' };
  try {
    const parsed = JSON.parse(manifest.content.toString('utf8')) as { scripts?: { test?: unknown } } | null;
    return { script: typeof parsed?.scripts?.test === 'string' ? parsed.scripts.test : '' };
  } catch {
    return { script: '' };
  }
}

interface TestFileSearch {
  files: string[];
  /** Why package.json could not be read, when it could not. */
  manifestRefused?: string;
}

async function findTestFiles(workdir: string): Promise<TestFileSearch> {
  const files = await sourceFiles(workdir);
  const conventional = files.filter((file) => TEST_FOLDER.test(file) || TEST_FILE_NAME.test(posix.basename(file)));
  const script = await testScript(workdir);
  const named = 'script' in script ? namedByScript(script.script, files) : [];
  const found = [...new Set([...conventional, ...named])].sort().slice(0, MAX_TEST_FILES);
  return 'refused' in script ? { files: found, manifestRefused: script.refused } : { files: found };
}

/** The droplet's test files, repository-relative, in a stable order. */
export async function testFiles(workdir: string): Promise<string[]> {
  return (await findTestFiles(workdir)).files;
}

function listed(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export interface TestCoverage {
  check: ContractCheck;
  /** `GET /state`-style names of the endpoints no test requests. */
  missing: string[];
  /** The test files found, repository-relative. */
  files: string[];
  /** Files the check refused to read (`package.json is a FIFO, not a regular file`); the check fails. */
  refused: string[];
}

/** The coverage check; never throws for what the workspace holds. */
export async function checkTestCoverage(workdir: string): Promise<TestCoverage> {
  const all = UDC_ENDPOINTS.map((endpoint) => `${endpoint.method} ${endpoint.path}`);
  const expected = `the test files request ${all.join(', ')}`;
  const { files, manifestRefused } = await findTestFiles(workdir);
  const refused = manifestRefused ? [manifestRefused] : [];
  if (files.length === 0 && refused.length === 0) {
    const got = 'no test files (none under test/, no *.test.js, none named by scripts.test)';
    return { check: { name: TEST_COVERAGE_CHECK, passed: false, expected, got }, missing: all, files, refused };
  }
  const requested = new Set<string>();
  for (const file of files) {
    const source = await readRegularFile(join(workdir, file), { maxBytes: MAX_FILE_BYTES, within: workdir });
    if (source.status === 'refused') refused.push(`${file} ${source.why}`);
    if (source.status !== 'read') continue;
    for (const path of requestedPaths(source.content.toString('utf8'))) requested.add(path);
  }
  const missing = UDC_ENDPOINTS.filter((endpoint) => !requested.has(endpoint.path)).map((endpoint) => `${endpoint.method} ${endpoint.path}`);
  const scanned = `${files.length} test file${files.length === 1 ? '' : 's'} (${listed(files)})`;
  let check: ContractCheck;
  if (refused.length > 0) check = { name: TEST_COVERAGE_CHECK, passed: false, expected, got: `refused to read ${refused.length === 1 ? 'a file' : `${refused.length} files`}: ${listed(refused, 3)}` };
  else if (missing.length === 0) check = { name: TEST_COVERAGE_CHECK, passed: true, expected, got: `all ${all.length} requested in ${scanned}` };
  else check = { name: TEST_COVERAGE_CHECK, passed: false, expected, got: `no test requests ${missing.join(', ')}; read ${scanned}` };
  return { check, missing, files, refused };
}

/** The report's summary when the droplet's tests leave endpoints out; null when they cover all. */
export function describeCoverageFailure(coverage: TestCoverage): string | null {
  if (coverage.check.passed) return null;
  if (coverage.refused.length > 0) {
    const count = coverage.refused.length;
    return `The droplet's tests could not be checked: ${count === 1 ? 'a file was' : `${count} files were`} refused (${listed(coverage.refused, 3)}).`;
  }
  if (coverage.files.length === 0) return 'The droplet has no test files, so its tests cover none of the UDC endpoints.';
  return `The droplet's own tests do not cover every UDC endpoint: no test requests ${coverage.missing.join(', ')}.`;
}
