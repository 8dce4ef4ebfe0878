/**
 * Failing test names read from a test runner's output: node:test (spec and TAP
 * reporters) precisely, vitest and jest on a best-effort basis.
 */
const MAX_NAMES = 50;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

const SPEC_FAILED = /^\s*✖\s+(.+?)(?:\s+\(\d+(?:\.\d+)?m?s\))?(\s+#\s*(?:TODO|SKIP)\b.*)?$/;
const SPEC_SUITE = /^\s*▶\s+(.+?)(?:\s+\(\d+(?:\.\d+)?m?s\))?$/;
const TAP_NOT_OK = /^(\s*)not ok \d+(?:\s+-\s+(.*?))?(\s+#\s*(?:TODO|SKIP)\b.*)?$/i;
const VITEST_FAIL = /^\s*FAIL\s+\S+\s+>\s+(.+?)\s*$/;
const CROSS = /^\s*[×✕]\s+(.+?)(?:\s+\(?\d+(?:\.\d+)?\s?m?s\)?)?$/;
/** vitest prefixes a failed test with its file: `test/a.test.ts > suite > name`. */
const FILE_PREFIX = /^\S+\.(?:test|spec)\.[cm]?[jt]sx?\s+>\s+/;

/** node:test writes `\#` and `\\` in TAP names. */
function unescapeTap(name: string): string {
  return name.replace(/\\([\\#])/g, '$1');
}

/** The TAP YAML block after a `not ok` line says whether it was a suite failing because of its children. */
function isFailedSuite(lines: string[], index: number, indent: string): boolean {
  for (let i = index + 1; i < lines.length && i < index + 40; i += 1) {
    const line = lines[i]!;
    if (line.startsWith(`${indent}  ...`)) return false;
    if (/^\s*type: 'suite'/.test(line) || /^\s*failureType: 'subtestsFailed'/.test(line)) return true;
  }
  return false;
}

export function failingTestNames(output: string): string[] {
  const lines = output.replace(ANSI, '').split(/\r?\n/);
  const suites = new Set<string>();
  for (const line of lines) {
    const suite = SPEC_SUITE.exec(line);
    if (suite) suites.add(suite[1]!);
  }
  const names = new Set<string>();
  lines.forEach((line, index) => {
    const spec = SPEC_FAILED.exec(line);
    if (spec) {
      const name = spec[1]!;
      if (!spec[2] && name !== 'failing tests:' && !suites.has(name)) names.add(name);
      return;
    }
    const tap = TAP_NOT_OK.exec(line);
    if (tap) {
      if (!tap[3] && tap[2] && !isFailedSuite(lines, index, tap[1]!)) names.add(unescapeTap(tap[2]));
      return;
    }
    const vitest = VITEST_FAIL.exec(line) ?? CROSS.exec(line);
    if (vitest) names.add(vitest[1]!.replace(FILE_PREFIX, '').replace(/\s+›\s+/g, ' > '));
  });
  return [...names].slice(0, MAX_NAMES);
}

/** node:test's summary says it ran nothing (`# tests 0` in TAP, `ℹ tests 0` in spec). */
export function reportsNoTests(output: string): boolean {
  return /^(?:#|ℹ) tests 0\s*$/m.test(output.replace(ANSI, ''));
}
