/**
 * The one prompt builder both model clients share. Every request is the same stable
 * prefix (instructions, tools, foundation files, then the SPEC once it exists) and a
 * short task message, so later calls of a build read the prefix from the cache.
 * Nothing secret is ever put into a prompt: only the intent, the standards, the
 * SPEC, repository files and verification reports.
 */
import type { DropletIdentity } from '../../domain/build.js';
import type { TestFailure, VerificationReport } from '../../domain/verification.js';
import type { FoundationFile } from '../../domain/ports/author.js';
import { excerptLines, type RepairFile } from '../../domain/repair-context.js';
import type { ModelTool } from './types.js';

/** How the model hands files back: tool calls, or file blocks for servers without tool support. */
export type OutputFormat = 'tools' | 'file_blocks';

export const FILE_BLOCK_START = '=== FILE: ';
export const FILE_BLOCK_END = '=== END FILE: ';
export const FILE_BLOCK_DELETE = '=== DELETE FILE: ';
export const FILE_BLOCK_CLOSE = ' ===';

export const FILE_TOOLS: ModelTool[] = [
  {
    name: 'write_file',
    description: 'Create or replace one file of the droplet repository with its complete content.',
    inputSchema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Repository-relative path with forward slashes, e.g. src/server.js' },
        content: { type: 'string', description: 'The whole file, never a fragment or a diff.' },
      },
      required: ['path', 'content'],
      additionalProperties: false,
    },
  },
  {
    name: 'edit_file',
    description:
      'Replace the one occurrence of old_text in an existing file with new_text. Use it for files shown as numbered excerpts. ' +
      'old_text is copied exactly from the file, without the line-number prefix, and must occur exactly once.',
    inputSchema: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Repository-relative path of a file you were shown.' },
        old_text: { type: 'string', description: 'Exact text to replace, including enough lines to be unique.' },
        new_text: { type: 'string', description: 'The replacement (may be empty to delete old_text).' },
      },
      required: ['path', 'old_text', 'new_text'],
      additionalProperties: false,
    },
  },
  {
    name: 'delete_file',
    description: 'Delete one file of the droplet repository.',
    inputSchema: {
      type: 'object',
      properties: { path: { type: 'string', description: 'Repository-relative path.' } },
      required: ['path'],
      additionalProperties: false,
    },
  },
];

const OUTPUT_RULES: Record<OutputFormat, string> = {
  tools: [
    'Hand back files only through the write_file, edit_file and delete_file tools.',
    'They are applied when your answer ends and their results only say "saved": do not wait for them.',
    'Each write_file carries the complete file, never a diff or an excerpt.',
    'read_file and list_files show you files of the repository you were not shown; their results come back to you and you',
    'go on. Read only what the task needs (the turns are limited), then write every change.',
  ].join('\n'),
  file_blocks: [
    'Hand back files only as file blocks, every file you change in this one answer. A block is:',
    `${FILE_BLOCK_START}<path>${FILE_BLOCK_CLOSE}`,
    '<the complete file content, exactly as it should be on disk>',
    `${FILE_BLOCK_END}<same path>${FILE_BLOCK_CLOSE}`,
    `To delete a file write one line: ${FILE_BLOCK_DELETE}<path>${FILE_BLOCK_CLOSE}`,
    'Marker lines stand alone on their line. Do not wrap blocks in code fences; content may itself contain fences.',
  ].join('\n'),
};

export function systemPrompt(format: OutputFormat): string {
  return [
    'You are the author inside the Autonomous Executor. You write SPECs and the code of "droplets":',
    'small Node.js microservices that must honour the Universal Droplet Contract (UDC) in the foundation files below.',
    'Work only from the foundation files, the SPEC and the task. Paths are relative to the droplet repository root;',
    'never write outside it, never into .git, never secrets or credentials (read them from the environment at run time).',
    '',
    OUTPUT_RULES[format],
  ].join('\n');
}

export function foundationBlock(files: readonly FoundationFile[]): string {
  return ['# Foundation files (the standards every droplet meets)', ...files.map((file) => `## ${file.path}\n\n${file.content.trim()}`)].join('\n\n');
}

export function specBlock(spec: string): string {
  return `# docs/SPEC.md (the approved specification of this droplet)\n\n${spec.trim()}`;
}

function identity(droplet: DropletIdentity): string {
  return `Droplet: id ${droplet.dropletId}, name "${droplet.name}".`;
}

export function specTask(intent: string, droplet: DropletIdentity, previousAnswerError?: string): string {
  return [
    'Task: write the SPEC of a new droplet as three files:',
    '- docs/SPEC.md: purpose, the five UDC endpoints with their shapes, the resources and their fields, validation rules,',
    '  error codes, configuration (environment variables), and the tests that prove it. Use ## headings per section.',
    '  End with a "## Not covered" section naming any part of the intent this droplet will not do.',
    '- docs/openapi.json: an OpenAPI 3.1 document ("openapi": "3.1.0") of every business route and the five UDC endpoints,',
    '  with a JSON schema for each request body and each response, and an `example` for every request body.',
    '- docs/acceptance.json: acceptance scenarios in the format of ACCEPTANCE.md in the foundation files, at least one for',
    '  each thing the intent asks for; together their steps must request every business operation of docs/openapi.json,',
    '  and request nothing it does not list.',
    identity(droplet),
    ...(previousAnswerError ? ['', `Your previous answer could not be accepted: ${previousAnswerError}. Write all three files again, fixed.`] : []),
    '',
    "The architect's intent:",
    intent.trim(),
  ].join('\n');
}

export function codeTask(intent: string, droplet: DropletIdentity): string {
  return [
    'Task: write every file of this droplet so that it meets the SPEC and the UDC, ready to run with `npm install && npm start`.',
    identity(droplet),
    'Include package.json (with "test" and "start" scripts), the server, a README.md, .env.example and tests that exercise',
    'all five UDC endpoints. The service reads SERVICE_PORT and API_TOKEN from the environment.',
    'Do not write docs/SPEC.md, docs/openapi.json or docs/acceptance.json: they are the approved SPEC the droplet is verified against.',
    '',
    "The architect's intent:",
    intent.trim(),
  ].join('\n');
}

const MAX_OUTPUT_EXCERPT = 6_000;
/** Lines of test output that say why something failed; the rest (passing tests, timings) is noise. */
const TELLING_LINE = /not ok|✖|fail|error|expected|actual|assert|throw|at .*\.(?:m?js|ts):\d+|^\s*[+-] /i;

/** The failing part of a command's output, with a little context, capped. */
export function trimOutput(output: string, limit = MAX_OUTPUT_EXCERPT): string {
  const lines = output.split(/\r?\n/);
  const keep = new Set<number>();
  const noise = (line: string) => /node:internal|node_modules/.test(line);
  lines.forEach((line, index) => {
    if (!TELLING_LINE.test(line) || noise(line)) return;
    for (let near = Math.max(0, index - 1); near <= Math.min(lines.length - 1, index + 2); near += 1) if (!noise(lines[near]!)) keep.add(near);
  });
  const picked = keep.size > 0 ? [...keep].sort((a, b) => a - b).map((index) => lines[index]!) : lines.slice(-40);
  const text = picked.join('\n');
  return text.length <= limit ? text : `${text.slice(0, limit)}\n[… trimmed]`;
}

const MAX_FAILURES_SHOWN = 20;
const MAX_OUTPUT_WITH_REPORT = 2_000;

function indented(text: string, max = 600): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(/\n/g, '\n    ');
}

/** One failing test: where it is, what it asserted, and the repository frames of its stack. */
function describeTestFailure(failure: TestFailure): string {
  const where = failure.file ? ` (${failure.file}${failure.line ? `:${failure.line}` : ''})` : '';
  const lines = [`- ${failure.name}${where}`, `    ${indented(failure.message || '(no message)')}`];
  if (failure.expected !== undefined || failure.actual !== undefined) {
    lines.push(`    expected${failure.operator ? ` (${failure.operator})` : ''}: ${indented(failure.expected ?? '')}`, `    actual: ${indented(failure.actual ?? '')}`);
  }
  if (failure.stack.length > 0) lines.push(`    at ${failure.stack.map((frame) => `${frame.path}:${frame.line}`).join(' < ')}`);
  return lines.join('\n');
}

/** What went wrong in a verification attempt, as short as a model needs it. */
export function failureBrief(report: VerificationReport): string {
  const lines = [`Stage that failed: ${report.stage}. ${report.summary}`];
  if (report.stage === 'install' && report.install) {
    lines.push('', `\`${report.install.command}\` output (trimmed):`, trimOutput(report.install.outputTail));
  }
  if (report.tests && report.stage === 'tests') {
    const failures = report.tests.failures ?? [];
    if (failures.length > 0) lines.push('', 'Failing tests (from the test runner\'s report):', ...failures.slice(0, MAX_FAILURES_SHOWN).map(describeTestFailure));
    else if (report.tests.failingTests.length > 0) lines.push('', 'Failing tests:', ...report.tests.failingTests.map((name) => `- ${name}`));
    if (failures.length > MAX_FAILURES_SHOWN) lines.push(`- and ${failures.length - MAX_FAILURES_SHOWN} more`);
    if (report.tests.timedOut) lines.push('', 'The test run timed out.');
    // The report has the assertions; the output adds what it cannot say (a file that failed to load, stderr).
    const limit = failures.length > 0 ? MAX_OUTPUT_WITH_REPORT : MAX_OUTPUT_EXCERPT;
    lines.push('', `\`${report.tests.command}\` output (trimmed):`, trimOutput(report.tests.outputTail, limit));
  }
  const failedChecks = report.contract?.filter((check) => !check.passed) ?? [];
  if (failedChecks.length > 0) {
    lines.push('', 'Contract and acceptance checks that failed:');
    for (const check of failedChecks) lines.push(`- ${check.name}: expected ${check.expected}; got ${check.got}`);
  }
  return lines.join('\n');
}

/** Files longer than this are shown as numbered excerpts around the lines the failure names (when the selection did not say). */
const EXCERPT_OVER_CHARS = 4_000;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A file as the repair author sees it: whole, or (when the selection says so, or when
 * it is long and the failure names lines of it) its first lines and the lines around
 * each one involved, numbered, so the model can change it with edit_file.
 */
export function fileForRepair(file: RepairFile, failureText = ''): string {
  const named = [...failureText.matchAll(new RegExp(`${escapeRegExp(file.path)}:(\\d+)`, 'g'))].map((match) => Number(match[1]));
  const involved = [...new Set([...(file.lines ?? []), ...named])];
  const why = file.why ? ` (${file.why})` : '';
  const excerpt = file.excerpt ?? (file.content.length > EXCERPT_OVER_CHARS && involved.length > 0);
  if (!excerpt || involved.length === 0) return `## ${file.path}${why}\n\n${file.content}`;
  const lines = file.content.split('\n');
  const out: string[] = [];
  let previous = 0;
  for (const line of excerptLines(lines.length, involved)) {
    if (line !== previous + 1) out.push('      …');
    out.push(`${String(line).padStart(5)}| ${lines[line - 1]}`);
    previous = line;
  }
  if (previous < lines.length) out.push('      …');
  return `## ${file.path} (excerpt of ${lines.length} lines${file.why ? `; ${file.why}` : ''}; change it with edit_file)\n\n${out.join('\n')}`;
}

export interface RepairTaskOptions {
  previousAnswerError?: string | undefined;
  /** Involved files left out of the prompt by its budget. */
  notShown?: readonly string[] | undefined;
  /** Whether read_file is offered (tool output and a workspace). */
  canRead?: boolean;
}

export function repairTask(droplet: DropletIdentity, attempt: number, report: VerificationReport, files: readonly RepairFile[], options: RepairTaskOptions = {}): string {
  const failureText = [report.install?.outputTail ?? '', report.tests?.outputTail ?? ''].join('\n');
  const notShown = options.notShown ?? [];
  return [
    `Task: verification attempt ${attempt} of this droplet failed. Fix it.`,
    identity(droplet),
    'Change as little as needed: edit_file for small changes, write_file only for new files or whole rewrites.',
    '',
    '# What failed',
    failureBrief(report),
    ...(options.previousAnswerError ? ['', '# Your previous answer to this failure could not be applied', options.previousAnswerError] : []),
    '',
    '# The files involved (the failing tests, the code they run, the routes that failed)',
    ...files.map((file) => fileForRepair(file, failureText)),
    ...(notShown.length > 0
      ? ['', `# Also involved, not shown${options.canRead ? ' (read them with read_file if you need them)' : ''}`, ...notShown.map((path) => `- ${path}`)]
      : []),
  ].join('\n');
}

export function continuationNote(saved: readonly string[], cutOff: string | null): string {
  return [
    'Your answer was cut off at the output limit.',
    saved.length > 0 ? `These files are saved: ${saved.join(', ')}.` : 'No file was complete.',
    cutOff ? `The file ${cutOff} was cut off and is discarded: send it again, whole.` : '',
    'Continue with the files that are still missing; do not repeat the saved ones.',
  ]
    .filter((line) => line.length > 0)
    .join('\n');
}
