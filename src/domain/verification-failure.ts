/**
 * Which repository files a failed verification involves: what a repair author is
 * shown instead of the whole repository. Files named in the failure's output or
 * checks; for a contract failure, the service's sources; when nothing is named,
 * every source file but the tests.
 */
import type { VerificationReport } from './verification.js';

const NEVER_SENT = /^(?:docs\/|node_modules\/)|(?:^|\/)package-lock\.json$/;
const TEST_FILE = /(?:^|\/)(?:test|tests|__tests__)\/|\.(?:test|spec)\.[cm]?[jt]sx?$/;
/** Enough for a small service; the rest of a failure's context is the SPEC, already cached. */
const MAX_FILES = 20;

function failureText(report: VerificationReport): string {
  const checks = (report.contract ?? []).filter((check) => !check.passed).map((check) => `${check.name} ${check.expected} ${check.got}`);
  return [report.summary, report.install?.outputTail ?? '', report.tests?.outputTail ?? '', ...checks].join('\n');
}

export function involvedFiles(report: VerificationReport, repoFiles: readonly string[]): string[] {
  const candidates = repoFiles.filter((path) => !NEVER_SENT.test(path));
  const text = failureText(report);
  const named = candidates.filter((path) => text.includes(path));
  const sources = candidates.filter((path) => !TEST_FILE.test(path) && /\.(?:[cm]?[jt]sx?|json)$/.test(path));
  const picked = new Set(named);
  if (report.stage === 'install') picked.add('package.json');
  if (report.stage === 'contract' || named.length === 0) for (const path of sources) picked.add(path);
  return [...picked].filter((path) => candidates.includes(path)).slice(0, MAX_FILES);
}

/** Lines of test output that say how an assertion failed, with what varies between runs removed. */
function assertionLines(output: string): string[] {
  return output
    .split(/\r?\n/)
    .filter((line) => /^\s*(?:[+-] |error:|expected|actual|AssertionError|Error:)/i.test(line))
    .filter((line) => !/duration_ms|node:internal/.test(line))
    .map((line) => line.replace(/\d+(?:\.\d+)?\s?m?s\b/g, '').trim())
    .slice(0, 40);
}

/**
 * Two failures with the same fingerprint failed the same way: the same stage, the same
 * failing tests and checks, and the same assertion messages and diffs.
 */
export function failureFingerprint(report: VerificationReport): string {
  const failedChecks = (report.contract ?? []).filter((check) => !check.passed).map((check) => `${check.name}: ${check.got}`).sort();
  const failingTests = [...(report.tests?.failingTests ?? [])].sort();
  const assertions = report.stage === 'tests' ? assertionLines(report.tests?.outputTail ?? '') : [];
  return JSON.stringify([report.stage, report.install?.exitCode ?? null, report.tests?.timedOut ?? false, failingTests, failedChecks, assertions]);
}
