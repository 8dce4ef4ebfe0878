/**
 * What a repair author is shown of the repository: the files a failed verification
 * involves, chosen from the failure itself and the code around it, within a budget.
 *
 * - The failing test files and the repository files in their stack traces (from the
 *   runner's structured report), and any repository path the failure's text names.
 * - For contract and acceptance failures, the route files: sources whose text
 *   registers the first segment of a path that failed (`/days/{{id}}` → `'days'`, `/days`).
 * - The import closure of all of those inside the repository, nearest first: the code
 *   a failing test exercises, the helpers a route uses.
 * - When nothing is named at all, every source file.
 *
 * Files too long to send whole are numbered excerpts around the lines involved; what
 * does not fit the budget is listed by name (a model author can read it with read_file).
 */
import type { RepoFile } from './files.js';
import { importClosure } from './source-imports.js';
import type { VerificationReport } from './verification.js';

/** A file shown to a repair; a plain RepoFile is one the selection said nothing about. */
export interface RepairFile extends RepoFile {
  /** Why the file is sent, e.g. `failing test "adds the tax"`, `imported by src/invoice.js`. */
  why?: string;
  /** The 1-based lines the failure points at (stack frames, a test's location, a route). */
  lines?: number[];
  /** Sent as numbered excerpts around `lines` rather than whole. */
  excerpt?: boolean;
}

export type SelectedFile = Required<RepairFile>;

export interface RepairContext {
  files: SelectedFile[];
  /** Involved, but over the budget: named so the author can ask for them. */
  notShown: string[];
}

export interface RepairBudget {
  /** Characters of file text shown in all. */
  totalChars: number;
  /** A file longer than this with lines to centre on is sent as excerpts. */
  excerptOverChars: number;
  /** A file longer than this with no line to centre on is not sent (only named). */
  wholeMaxChars: number;
  maxFiles: number;
}

export const DEFAULT_REPAIR_BUDGET: RepairBudget = { totalChars: 32_000, excerptOverChars: 4_000, wholeMaxChars: 12_000, maxFiles: 24 };

/** Lines of context either side of a line involved, in an excerpt; and the file's first lines (its imports). */
export const EXCERPT_CONTEXT_LINES = 20;
export const EXCERPT_HEAD_LINES = 8;

const NEVER_SENT = /^(?:docs\/|node_modules\/)|(?:^|\/)package-lock\.json$/;
const TEST_FILE = /(?:^|\/)(?:test|tests|__tests__)\/|\.(?:test|spec)\.[cm]?[jt]sx?$/;
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|json)$/;
const CODE_FILE = /\.[cm]?[jt]sx?$/;
const HTTP_PATH = /\b(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\s+(\/[^\s;,)"']*)/g;

export function isTestFile(path: string): boolean {
  return TEST_FILE.test(path);
}

/** Whether a repository file may be shown to a repair author at all. */
export function isSendable(path: string): boolean {
  return !NEVER_SENT.test(path);
}

/** Which files of the repository the selection reads (sources, tests, the manifest). */
export function isReadForRepair(path: string): boolean {
  return isSendable(path) && (SOURCE_FILE.test(path) || path === 'package.json');
}

interface Lead {
  path: string;
  why: string;
  lines: number[];
}

function failedChecks(report: VerificationReport) {
  return (report.contract ?? []).filter((check) => !check.passed);
}

/** What the failure says, from the stage that failed only: a passing test run's output names files that are not involved. */
function failureText(report: VerificationReport): string {
  const checks = failedChecks(report).map((check) => `${check.name} ${check.expected} ${check.got}`);
  const output = report.stage === 'install' ? report.install?.outputTail : report.stage === 'tests' ? report.tests?.outputTail : undefined;
  return [report.summary, output ?? '', ...checks].join('\n');
}

/** The first path segments of the requests that failed (`acceptance: …` and UDC checks alike), e.g. `days`, `health`. */
export function failedRouteSegments(report: VerificationReport): string[] {
  const segments = new Set<string>();
  for (const check of failedChecks(report)) {
    for (const match of `${check.name} ${check.expected} ${check.got}`.matchAll(HTTP_PATH)) {
      const first = match[2]!.split(/[/?#]/).find((segment) => segment.length > 0);
      if (first && !first.startsWith('{{') && !first.startsWith(':')) segments.add(decodeSegment(first));
    }
  }
  return [...segments];
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The lines (1-based) of a source that register one of the segments: `'/days'`, `"/days/:id"`, `plural: "days"`. */
export function routeLines(content: string, segments: readonly string[]): number[] {
  if (segments.length === 0) return [];
  const alternatives = segments.map(escapeRegExp).join('|');
  const registers = new RegExp(`['"\`]/(?:${alternatives})(?:[/'"\`?]|$)|['"\`](?:${alternatives})['"\`]`);
  return content.split('\n').flatMap((line, index) => (registers.test(line) ? [index + 1] : []));
}

/** Every repository path the text names, with the lines it names them at (`src/a.js:12`). */
function namedInText(text: string, paths: readonly string[]): Lead[] {
  return paths.flatMap((path) => {
    if (!text.includes(path)) return [];
    const lines = [...text.matchAll(new RegExp(`${escapeRegExp(path)}:(\\d+)`, 'g'))].map((match) => Number(match[1]));
    return [{ path, why: 'named in the failure', lines }];
  });
}

/** The files package.json starts the service with: `main`, and the file of a `node <file>` start script. */
export function entryFiles(files: ReadonlyMap<string, string>): string[] {
  const manifest = files.get('package.json');
  if (manifest === undefined) return [];
  let parsed: { main?: unknown; scripts?: { start?: unknown } };
  try {
    parsed = JSON.parse(manifest) as typeof parsed;
  } catch {
    return [];
  }
  const start = typeof parsed.scripts?.start === 'string' ? /\bnode\s+(?:--\S+\s+)*([^\s;&|]+)/.exec(parsed.scripts.start)?.[1] : undefined;
  const named = [parsed.main, start].filter((path): path is string => typeof path === 'string').map((path) => path.replace(/^\.\//, ''));
  return [...new Set(named)].filter((path) => files.has(path));
}

function directLeads(report: VerificationReport, files: ReadonlyMap<string, string>): Lead[] {
  const paths = [...files.keys()];
  const leads: Lead[] = [];
  for (const failure of report.tests?.failures ?? []) {
    if (failure.file) leads.push({ path: failure.file, why: `failing test "${failure.name}"`, lines: failure.line ? [failure.line] : [] });
    for (const frame of failure.stack) leads.push({ path: frame.path, why: `in the stack of "${failure.name}"`, lines: [frame.line] });
  }
  leads.push(...namedInText(failureText(report), paths));
  if (report.stage === 'install') leads.push({ path: 'package.json', why: 'the install failed', lines: [] });
  const segments = failedRouteSegments(report);
  for (const [path, content] of files) {
    if (isTestFile(path) || !SOURCE_FILE.test(path)) continue;
    const lines = routeLines(content, segments);
    if (lines.length > 0) leads.push({ path, why: `serves ${segments.map((segment) => `/${segment}`).join(', ')}`, lines });
  }
  // The running droplet failed (a request, or its start): the code that serves it starts at the entry point (routes may be generic over a data file).
  if (report.stage === 'contract') {
    for (const path of entryFiles(files)) leads.push({ path, why: 'starts the service', lines: [] });
  }
  // The droplet's tests themselves fail the coverage check: they are what must change.
  if (failedChecks(report).some((check) => check.name.startsWith('tests cover'))) {
    for (const path of paths) if (isTestFile(path) && CODE_FILE.test(path)) leads.push({ path, why: 'a test of the droplet', lines: [] });
  }
  return leads;
}

/** Leads merged per file, in first-seen order, their lines united. */
function mergeLeads(leads: readonly Lead[], files: ReadonlyMap<string, string>): Lead[] {
  const merged = new Map<string, Lead>();
  for (const lead of leads) {
    if (!files.has(lead.path)) continue;
    const known = merged.get(lead.path);
    if (!known) merged.set(lead.path, { ...lead, lines: [...new Set(lead.lines)] });
    else known.lines = [...new Set([...known.lines, ...lead.lines])];
  }
  return [...merged.values()];
}

/** The lines an excerpt shows: the file's head and a window around each line involved. */
export function excerptLines(lineCount: number, involved: readonly number[]): number[] {
  const shown = new Set<number>();
  for (let line = 1; line <= Math.min(EXCERPT_HEAD_LINES, lineCount); line += 1) shown.add(line);
  for (const center of involved) {
    for (let line = Math.max(1, center - EXCERPT_CONTEXT_LINES); line <= Math.min(lineCount, center + EXCERPT_CONTEXT_LINES); line += 1) shown.add(line);
  }
  return [...shown].sort((a, b) => a - b);
}

function excerptSize(content: string, involved: readonly number[]): number {
  const lines = content.split('\n');
  return excerptLines(lines.length, involved).reduce((size, line) => size + (lines[line - 1]?.length ?? 0) + 8, 0);
}

/** Whole, excerpt, or not shown, within what is left of the budget. */
function fit(lead: Lead, content: string, left: number, budget: RepairBudget): SelectedFile | null {
  const lines = lead.lines.filter((line) => line >= 1);
  const whole = content.length <= (lines.length > 0 ? budget.excerptOverChars : budget.wholeMaxChars);
  if (whole && content.length <= left) return { path: lead.path, content, why: lead.why, lines, excerpt: false };
  if (lines.length > 0 && excerptSize(content, lines) <= left) return { path: lead.path, content, why: lead.why, lines, excerpt: true };
  return null;
}

/**
 * The files a repair is shown, chosen from the failure and `files` (the repository's
 * readable sources and tests, by path), within the budget.
 */
export function selectRepairContext(report: VerificationReport, files: ReadonlyMap<string, string>, budget: RepairBudget = DEFAULT_REPAIR_BUDGET): RepairContext {
  const sendable = new Map([...files].filter(([path]) => isSendable(path)));
  let leads = mergeLeads(directLeads(report, sendable), sendable);
  if (leads.length === 0) {
    leads = [...sendable.keys()].filter((path) => !isTestFile(path) && SOURCE_FILE.test(path)).map((path) => ({ path, why: 'a source of the droplet', lines: [] }));
  }
  const direct = new Set(leads.map((lead) => lead.path));
  const closure = importClosure(
    leads.map((lead) => lead.path),
    (path) => (CODE_FILE.test(path) ? (sendable.get(path) ?? null) : null),
    new Set(sendable.keys()),
  );
  const imported = [...closure.entries()]
    .filter(([path, entry]) => !direct.has(path) && entry.via !== null)
    .sort((a, b) => a[1].distance - b[1].distance)
    .map(([path, entry]): Lead => ({ path, why: `imported by ${entry.via}`, lines: [] }));
  const shown: SelectedFile[] = [];
  const notShown: string[] = [];
  let left = budget.totalChars;
  for (const lead of [...leads, ...imported]) {
    const file = shown.length < budget.maxFiles ? fit(lead, sendable.get(lead.path)!, left, budget) : null;
    if (!file) {
      notShown.push(lead.path);
      continue;
    }
    shown.push(file);
    left -= file.excerpt ? excerptSize(file.content, file.lines) : file.content.length;
  }
  return { files: shown, notShown };
}
