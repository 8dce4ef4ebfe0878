/**
 * The structured test report, against real `node --test` runs of a small project in a
 * temporary directory (real child processes, the reporter added as the verifier adds it).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTestReport, readTestReport, reporterEnvironment, repoRelative, stackFiles, TEST_REPORT_FILE } from '../../src/verify/test-report.js';
import { failingTestNames } from '../../src/verify/test-output.js';

let dir: string;

const FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'report-probe', type: 'module', scripts: { test: 'node --test' } }),
  'src/invoice.js': "import { tax } from './tax.js';\nexport const total = (net) => net + tax(net);\n",
  'src/tax.js': "export function tax(net) {\n  if (net < 0) throw new RangeError('negative amount ' + net);\n  return net * 0.2;\n}\n",
  'test/invoice.test.js': [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { total } from '../src/invoice.js';",
    "test('adds the tax', () => { assert.equal(total(100), 125); });",
    "test('refuses nothing', () => { total(-1); });",
    "test('passes', () => {});",
    "test('keeps the lines', () => { assert.deepEqual({ lines: [1, 2] }, { lines: [1, 3] }, 'lines differ'); });",
    "test('not written yet', { todo: true }, () => { throw new Error('todo'); });",
  ].join('\n'),
  'test/suite.test.js': [
    "import { describe, it } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "describe('widgets', () => {",
    "  it('are counted', () => { assert.ok(false); });",
    "  it('are listed', () => {});",
    '});',
  ].join('\n'),
  'test/broken.test.js': "import { missing } from '../src/nowhere.js';\nmissing();\n",
};

interface Run {
  output: string;
  code: number;
}

function nodeTest(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--test'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ output: stdout + stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 });
    });
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'test-report-'));
  for (const [path, content] of Object.entries(FILES)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the structured report of node:test', () => {
  it('names every failing test with its file, assertion and the repository files of its stack', async () => {
    const env = reporterEnvironment(dir, 'node --test')!;
    const run = await nodeTest(env);
    expect(run.code).not.toBe(0);
    // The human-readable output is still there.
    expect(run.output).toContain('✖ adds the tax');
    const failures = (await readTestReport(dir))!;
    expect(existsSync(join(dir, TEST_REPORT_FILE))).toBe(false);
    const byName = new Map(failures.map((failure) => [failure.name, failure]));
    expect([...byName.keys()].sort()).toEqual(['adds the tax', 'are counted', 'keeps the lines', 'refuses nothing', 'test/broken.test.js'].sort());

    expect(byName.get('adds the tax')).toMatchObject({ file: 'test/invoice.test.js', line: 4, expected: '125', actual: '120', operator: 'strictEqual' });
    expect(byName.get('adds the tax')!.message).toContain('120 !== 125');
    expect(byName.get('adds the tax')!.stack[0]).toEqual({ path: 'test/invoice.test.js', line: 4 });

    // What was thrown two imports away: the stack names both source files, innermost first.
    const thrown = byName.get('refuses nothing')!;
    expect(thrown.message).toBe('negative amount -1');
    expect(thrown.expected).toBeUndefined();
    expect(thrown.stack.map((frame) => frame.path)).toEqual(['src/tax.js', 'src/invoice.js', 'test/invoice.test.js']);
    expect(thrown.stack[0]!.line).toBe(2);

    expect(byName.get('keeps the lines')).toMatchObject({ expected: '{ lines: [ 1, 3 ] }', actual: '{ lines: [ 1, 2 ] }', operator: 'deepStrictEqual' });
    expect(byName.get('keeps the lines')!.message).toMatch(/^lines differ/);
    // The suite is not reported on its own: its child says why it failed.
    expect(byName.get('are counted')).toMatchObject({ file: 'test/suite.test.js', line: 4 });
    // A file that cannot load is a failure named by its path.
    expect(byName.get('test/broken.test.js')!.file).toBe('test/broken.test.js');
  });

  it('is not added where the test script brings its own reporter or is not node:test', () => {
    expect(reporterEnvironment(dir, 'node --test --test-reporter=dot')).toBeNull();
    expect(reporterEnvironment(dir, 'vitest run')).toBeNull();
    expect(reporterEnvironment(dir, null)).toBeNull();
    expect(reporterEnvironment(dir, 'node --test test/')).not.toBeNull();
  });

  it('keeps the text output readable for runners without the report', async () => {
    const run = await nodeTest({});
    expect(failingTestNames(run.output)).toEqual(expect.arrayContaining(['adds the tax', 'refuses nothing']));
    expect(await readTestReport(dir)).toBeNull();
  });
});

describe('reading the report (it is untrusted: droplet code can write it)', () => {
  it('skips lines that are not the reporter shape, and paths outside the workspace', () => {
    const good = { name: 't', file: '/w/test/a.test.js', line: 3, failureType: 'testCodeFailure', message: 'boom', stack: 'at x (file:///w/src/a.js:9:2)\n at y (/elsewhere/b.js:1:1)\n at z (/w/node_modules/fastify/f.js:1:1)' };
    const text = [JSON.stringify(good), '{"name": 1}', 'not json', JSON.stringify({ ...good, extra: true }), JSON.stringify({ ...good, name: 'u', file: '/etc/passwd', stack: '' })].join('\n');
    const failures = parseTestReport(text, ['/w']);
    expect(failures).toEqual([
      { name: 't', file: 'test/a.test.js', line: 3, message: 'boom', stack: [{ path: 'src/a.js', line: 9 }] },
      { name: 'u', file: null, line: null, message: 'boom', stack: [] },
    ]);
  });

  it('is not read through a link the droplet put in its place, and the link is removed', async () => {
    const report = join(dir, TEST_REPORT_FILE);
    await writeFile(join(dir, 'outside.jsonl'), JSON.stringify({ name: 'planted', file: null, line: null, failureType: null, message: 'x', stack: '' }));
    await symlink(join(dir, 'outside.jsonl'), report);
    expect(await readTestReport(dir)).toBeNull();
    expect(existsSync(report)).toBe(false);
  });

  it('maps file URLs and paths into the repository, and nothing else', () => {
    expect(repoRelative('file:///w/src/a%20b.js', ['/w'])).toBe('src/a b.js');
    expect(repoRelative('/w/../etc/x', ['/w'])).toBeNull();
    expect(repoRelative('src/a.js', ['/w'])).toBeNull();
    expect(stackFiles('at a (/real/w/src/a.js:1:1)\nat b (/real/w/src/a.js:1:5)', ['/w', '/real/w'])).toEqual([{ path: 'src/a.js', line: 1 }]);
  });
});
