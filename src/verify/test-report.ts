/**
 * The droplet's failing tests read from node:test's own event stream instead of the
 * tail of its text output. A small reporter (an inline `data:` module, so nothing has
 * to be installed or readable in the sandbox) is added through NODE_OPTIONS next to the
 * human-readable one and writes one JSON line per failing test into the workspace; the
 * executor reads that file safely and parses it strictly, since droplet code could have
 * written anything there.
 */
import { realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { FileLine, TestFailure } from '../domain/verification.js';
import { readRegularFile } from '../support/files.js';

/** Where the reporter writes, relative to the workspace; removed before and after each run. */
export const TEST_REPORT_FILE = '.executor-test-report.jsonl';
const MAX_REPORT_BYTES = 2 * 1024 * 1024;
const MAX_FAILURES = 100;
const MAX_STACK_FRAMES = 12;

/**
 * Runs inside the droplet's test process. Suites failing because a child failed and
 * tests cancelled with their parent are left out: the child's own event says why.
 */
const REPORTER_SOURCE = `import { inspect } from 'node:util';
const cut = (text, max) => (text.length > max ? text.slice(0, max) + '…' : text);
const show = (value) => cut(typeof value === 'string' ? value : inspect(value, { depth: 4, maxArrayLength: 20, maxStringLength: 500, breakLength: 100 }), 1500);
export default async function* (source) {
  let count = 0;
  for await (const event of source) {
    if (event.type !== 'test:fail' || count >= ${MAX_FAILURES}) continue;
    const data = event.data;
    const error = data.details?.error;
    const failureType = error?.failureType ?? null;
    if ((data.todo !== undefined && data.todo !== false) || data.details?.type === 'suite' || failureType === 'subtestsFailed' || failureType === 'cancelledByParent') continue;
    const cause = error && error.cause !== undefined && failureType !== 'testTimeoutFailure' ? error.cause : error;
    const thrown = cause !== null && typeof cause === 'object';
    const line = { name: String(data.name), file: data.file ?? null, line: data.line ?? null, failureType,
      message: cut(thrown ? String(cause.message ?? '') : String(cause), 2000),
      stack: thrown && typeof cause.stack === 'string' ? cut(cause.stack, 4000) : '' };
    if (thrown && 'expected' in cause && 'actual' in cause) Object.assign(line, { expected: show(cause.expected), actual: show(cause.actual), operator: String(cause.operator ?? '') });
    count += 1;
    yield JSON.stringify(line) + '\\n';
  }
}
`;

/** NODE_OPTIONS' own parser splits on spaces and reads quotes and backslashes: the URL has none of them. */
const REPORTER_URL = `data:text/javascript,${encodeURIComponent(REPORTER_SOURCE).replace(/'/g, '%27')}`;

/**
 * The environment that adds the report, or null when the test script would not take
 * it: a `--test-reporter` of the script's own counts against the destinations, and
 * node refuses unequal numbers, so such a droplet keeps its text output only.
 */
export function reporterEnvironment(workdir: string, testScript: string | null): Record<string, string> | null {
  if (testScript === null || !/\bnode\b[^&|;]*\s--test\b/.test(testScript) || testScript.includes('--test-reporter')) return null;
  const destination = join(workdir, TEST_REPORT_FILE);
  return { NODE_OPTIONS: `--test-reporter=spec --test-reporter-destination=stdout --test-reporter=${REPORTER_URL} --test-reporter-destination=${destination}` };
}

const reportLine = z.object({
  name: z.string().max(2000),
  file: z.string().max(4096).nullable(),
  line: z.number().int().nonnegative().nullable(),
  failureType: z.string().max(100).nullable(),
  message: z.string().max(4000),
  stack: z.string().max(8000),
  expected: z.string().max(3000).optional(),
  actual: z.string().max(3000).optional(),
  operator: z.string().max(100).optional(),
}).strict();

/** `file:///w/src/a.js`, `/w/src/a.js` → `src/a.js` when inside one of the roots; null otherwise. */
export function repoRelative(location: string, roots: readonly string[]): string | null {
  let absolute = location;
  if (location.startsWith('file://')) {
    try {
      absolute = fileURLToPath(location);
    } catch {
      return null;
    }
  }
  if (!isAbsolute(absolute)) return null;
  for (const root of roots) {
    const rel = relative(root, absolute);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) {
      const path = rel.split(sep).join('/');
      return /(?:^|\/)node_modules\//.test(path) ? null : path;
    }
  }
  return null;
}

const STACK_LOCATION = /((?:file:\/\/)?\/[^\s():]+):(\d+)(?::\d+)?/g;

/** The repository files of a stack trace, innermost first, each frame once. */
export function stackFiles(stack: string, roots: readonly string[]): FileLine[] {
  const frames: FileLine[] = [];
  const seen = new Set<string>();
  for (const match of stack.matchAll(STACK_LOCATION)) {
    const path = repoRelative(match[1]!, roots);
    const key = `${path}:${match[2]}`;
    if (path === null || seen.has(key)) continue;
    seen.add(key);
    frames.push({ path, line: Number(match[2]) });
    if (frames.length >= MAX_STACK_FRAMES) break;
  }
  return frames;
}

/** Reads the report's lines; lines that are not the reporter's shape are skipped. */
export function parseTestReport(text: string, roots: readonly string[]): TestFailure[] {
  const failures: TestFailure[] = [];
  for (const raw of text.split('\n')) {
    if (!raw.trim() || failures.length >= MAX_FAILURES) continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      continue;
    }
    const parsed = reportLine.safeParse(json);
    if (!parsed.success) continue;
    const { name, file, line, message, stack, expected, actual, operator } = parsed.data;
    const testFile = file === null ? null : repoRelative(file, roots);
    failures.push({
      // A file that failed as a whole is named by its absolute path.
      name: testFile !== null && file === name ? testFile : name,
      file: testFile,
      line: testFile === null ? null : line,
      message: message.trim(),
      ...(expected === undefined ? {} : { expected }),
      ...(actual === undefined ? {} : { actual }),
      ...(operator ? { operator } : {}),
      stack: stackFiles(stack, roots),
    });
  }
  return failures;
}

/** The workspace as the sandbox sees it: the same path, or its real path (bubblewrap binds the real one). */
function workspaceRoots(workdir: string): string[] {
  try {
    const real = realpathSync(workdir);
    return real === workdir ? [workdir] : [workdir, real];
  } catch {
    return [workdir];
  }
}

export async function clearTestReport(workdir: string): Promise<void> {
  await rm(join(workdir, TEST_REPORT_FILE), { force: true, recursive: true });
}

/** The failures the reporter wrote, or null when it wrote nothing readable (the file is removed either way). */
export async function readTestReport(workdir: string): Promise<TestFailure[] | null> {
  const read = await readRegularFile(join(workdir, TEST_REPORT_FILE), { maxBytes: MAX_REPORT_BYTES, overLimit: 'truncate', within: workdir });
  await clearTestReport(workdir);
  if (read.status !== 'read') return null;
  return parseTestReport(read.content.toString('utf8'), workspaceRoots(workdir));
}
