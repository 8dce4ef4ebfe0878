/**
 * Pure rules about a failed verification: whether two failures are the same failure.
 * (What a repair is shown of it is `repair-context.ts`.)
 */
import type { VerificationReport } from './verification.js';

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
  const failures = report.tests?.failures;
  // The runner's report says how each test failed exactly; the text output only roughly.
  const assertions =
    report.stage !== 'tests'
      ? []
      : failures && failures.length > 0
        ? failures.map((failure) => [failure.name, failure.file, failure.message, failure.expected ?? null, failure.actual ?? null].join('\u0000')).sort()
        : assertionLines(report.tests?.outputTail ?? '');
  return JSON.stringify([report.stage, report.install?.exitCode ?? null, report.tests?.timedOut ?? false, failingTests, failedChecks, assertions]);
}
