import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failingTestNames, reportsNoTests } from '../../src/verify/test-output.js';

const run = promisify(execFile);
let dir: string;

const SUITE = `import { test, describe, it } from 'node:test';
import assert from 'node:assert/strict';
test('passes', () => {});
test('adds # numbers', () => { assert.equal(1 + 1, 3); });
describe('widgets', () => {
  it('are listed in order', () => { throw new Error('unordered'); });
  it('are counted', () => {});
});
test('not written yet', { todo: true }, () => { throw new Error('todo'); });
test('skipped', { skip: true }, () => {});
`;

/** The real output of node:test with a reporter; it exits 1 because tests fail. */
async function nodeTestOutput(reporter: 'tap' | 'spec'): Promise<string> {
  try {
    await run(process.execPath, ['--test', `--test-reporter=${reporter}`], { cwd: dir });
    throw new Error('node --test should have failed');
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return stdout + stderr;
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'test-output-'));
  await writeFile(join(dir, 'suite.test.mjs'), SUITE);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('failingTestNames', () => {
  it.each(['tap', 'spec'] as const)('reads the failing tests, not suites, todos or skips, from the node:test %s reporter', async (reporter) => {
    const output = await nodeTestOutput(reporter);
    expect(failingTestNames(output)).toEqual(['adds # numbers', 'are listed in order']);
    expect(reportsNoTests(output)).toBe(false);
  });

  it('reads vitest and jest failure lines', () => {
    const vitest = [' ✓ test/a.test.ts > sums > adds 2ms', ' × test/a.test.ts > sums > subtracts 3ms', ' FAIL  test/a.test.ts > sums > subtracts'].join('\n');
    expect(failingTestNames(vitest)).toEqual(['sums > subtracts']);
    const jest = ['  sums', '    ✓ adds (2 ms)', '    ✕ subtracts (3 ms)'].join('\n');
    expect(failingTestNames(jest)).toEqual(['subtracts']);
  });

  it('finds nothing in a passing run', () => {
    expect(failingTestNames('ok 1 - passes\n# tests 1\n# pass 1\n# fail 0\n')).toEqual([]);
  });
});

describe('reportsNoTests', () => {
  it('recognises a node:test run that found no tests', () => {
    expect(reportsNoTests('1..0\n# tests 0\n# pass 0\n')).toBe(true);
    expect(reportsNoTests('ℹ tests 0\nℹ pass 0\n')).toBe(true);
    expect(reportsNoTests('# tests 10\n')).toBe(false);
  });
});
