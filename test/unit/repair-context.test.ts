/** What a repair is shown: the import closure of what failed, the routes of failed requests, excerpts within a budget. */
import { describe, expect, it } from 'vitest';
import { failureBrief, fileForRepair, repairTask } from '../../src/authors/model/prompts.js';
import { failedRouteSegments, routeLines, selectRepairContext } from '../../src/domain/repair-context.js';
import { importClosure, relativeSpecifiers, resolveSpecifier } from '../../src/domain/source-imports.js';
import { failureFingerprint } from '../../src/domain/verification-failure.js';
import type { ContractCheck, TestFailure, VerificationReport } from '../../src/domain/verification.js';

describe('relative imports', () => {
  it('reads import, export-from, dynamic import and require, and skips comments and packages', () => {
    const source = [
      "import Fastify from 'fastify';",
      "import { a,",
      "  b as c } from './a.js';",
      "import * as ns from \"../lib/ns.js\";",
      "import './side-effect.js';",
      "import type { T } from './types';",
      "export { x } from './x.js';",
      "export * from './all.js';",
      "const lazy = await import('./lazy.js');",
      "const old = require('./old.cjs');",
      "// import { gone } from './commented.js';",
      "/* import './block.js'; */",
      "import { readFile } from 'node:fs/promises';",
      "const url = 'http://example.org/./not-an-import';",
    ].join('\n');
    expect(relativeSpecifiers(source)).toEqual(['./a.js', '../lib/ns.js', './side-effect.js', './types', './x.js', './all.js', './lazy.js', './old.cjs']);
  });

  it('resolves specifiers the way node and TypeScript find files, and never out of the repository', () => {
    const files = new Set(['src/a.js', 'src/b.ts', 'src/lib/index.js', 'src/data.json', 'test/a.test.js']);
    expect(resolveSpecifier('test/a.test.js', '../src/a.js', files)).toBe('src/a.js');
    expect(resolveSpecifier('src/a.js', './b.js', files)).toBe('src/b.ts');
    expect(resolveSpecifier('src/a.js', './lib', files)).toBe('src/lib/index.js');
    expect(resolveSpecifier('src/a.js', './data.json', files)).toBe('src/data.json');
    expect(resolveSpecifier('src/a.js', './missing.js', files)).toBeNull();
    expect(resolveSpecifier('src/a.js', '../../etc/passwd', files)).toBeNull();
  });

  it('walks the closure breadth first, each file once, with who imported it', () => {
    const sources: Record<string, string> = {
      'test/t.test.js': "import { f } from '../src/f.js';",
      'src/f.js': "import { g } from './g.js'; import { h } from './h.js';",
      'src/g.js': "import { f } from './f.js'; import { h } from './h.js';",
      'src/h.js': 'export const h = 1;',
      'src/unrelated.js': "import { h } from './h.js';",
    };
    const closure = importClosure(['test/t.test.js'], (path) => sources[path] ?? null, new Set(Object.keys(sources)));
    expect([...closure]).toEqual([
      ['test/t.test.js', { distance: 0, via: null }],
      ['src/f.js', { distance: 1, via: 'test/t.test.js' }],
      ['src/g.js', { distance: 2, via: 'src/f.js' }],
      ['src/h.js', { distance: 2, via: 'src/f.js' }],
    ]);
  });
});

const testsFailed = (failures: TestFailure[]): VerificationReport => ({
  passed: false,
  stage: 'tests',
  summary: `${failures.length} test failed`,
  childProcessMs: 0,
  tests: { command: 'npm test', exitCode: 1, timedOut: false, truncated: false, durationMs: 1, outputTail: '', failingTests: failures.map((f) => f.name), failures },
});

const contractFailed = (checks: ContractCheck[]): VerificationReport => ({ passed: false, stage: 'contract', summary: 'Contract check failed', childProcessMs: 0, contract: checks });

const REPO = new Map<string, string>([
  ['package.json', '{"name":"x","type":"module","main":"src/server.js","scripts":{"start":"node src/server.js"}}'],
  ['package-lock.json', '{}'],
  ['docs/SPEC.md', '# SPEC'],
  ['README.md', '# x'],
  ['src/server.js', "import { buildApp } from './app.js';\nbuildApp().listen();\n"],
  ['src/app.js', "import { resources } from './resources/index.js';\nexport function buildApp() {}\n"],
  ['src/resources/index.js', "import { daysResource } from './days.js';\nexport const resources = [daysResource];\n"],
  ['src/resources/days.js', "import { defineResource } from '../crud.js';\n\nexport const daysResource = defineResource({\n  plural: \"days\",\n});\n"],
  ['src/crud.js', "import { RecordStore } from './store.js';\nexport function defineResource({ plural }) {\n  const base = '/' + plural;\n}\n"],
  ['src/store.js', 'export class RecordStore {}\n'],
  ['src/invoice.js', "import { tax } from './tax.js';\nexport const total = (net) => net + tax(net);\n"],
  ['src/tax.js', 'export const tax = (net) => net * 0.3;\n'],
  ['test/invoice.test.js', "import { total } from '../src/invoice.js';\ntest('adds the tax', () => assert.equal(total(100), 120));\n"],
  ['test/days.test.js', "import { buildApp } from '../src/app.js';\nawait app.inject({ url: '/days' });\n"],
]);

describe('what a failed test is shown', () => {
  it('the failing test file and the sources it imports, two imports away included, never docs or the lockfile', () => {
    const failure: TestFailure = { name: 'adds the tax', file: 'test/invoice.test.js', line: 2, message: '130 !== 120', expected: '120', actual: '130', stack: [{ path: 'test/invoice.test.js', line: 2 }] };
    const { files, notShown } = selectRepairContext(testsFailed([failure]), REPO);
    expect(files.map((file) => [file.path, file.why])).toEqual([
      ['test/invoice.test.js', 'failing test "adds the tax"'],
      ['src/invoice.js', 'imported by test/invoice.test.js'],
      ['src/tax.js', 'imported by src/invoice.js'],
    ]);
    expect(files[0]).toMatchObject({ lines: [2], excerpt: false, content: REPO.get('test/invoice.test.js') });
    expect(notShown).toEqual([]);
  });

  it('the files of the stack, with their lines, before the code they import', () => {
    const failure: TestFailure = { name: 'a', file: 'test/days.test.js', line: 2, message: 'boom', stack: [{ path: 'src/crud.js', line: 3 }, { path: 'test/days.test.js', line: 2 }] };
    const paths = selectRepairContext(testsFailed([failure]), REPO).files.map((file) => `${file.path} ${file.lines.join(',')}`);
    expect(paths.slice(0, 2)).toEqual(['test/days.test.js 2', 'src/crud.js 3']);
    expect(paths).toContain('src/store.js ');
    expect(paths).toContain('src/resources/days.js ');
  });
});

describe('what a failed request is shown', () => {
  const acceptance: ContractCheck = {
    name: 'acceptance: a day keeps its name',
    passed: false,
    expected: 'covers "days"; step 2: GET /days/abc-123 answers 200 with {"name":"x"}',
    got: '404: {"error":{"code":"NOT_FOUND"}}',
  };

  it('reads the first segment of every failed request, acceptance and UDC checks alike', () => {
    expect(failedRouteSegments(contractFailed([acceptance, { name: 'GET /health shape', passed: false, expected: 'x', got: 'y' }, { name: 'POST /message', passed: true, expected: '', got: '' }]))).toEqual(['days', 'health']);
  });

  it('finds the lines that register a segment, not ones that merely mention it', () => {
    const source = ["app.get('/days/:id', h);", 'const plural = "days";', '// the days of the week', "app.get('/daysoff', h);", 'fetch(`/days?limit=1`);'].join('\n');
    expect(routeLines(source, ['days'])).toEqual([1, 2, 5]);
  });

  it('not the files a passing test run names', () => {
    const report: VerificationReport = {
      ...contractFailed([acceptance]),
      tests: { command: 'npm test', exitCode: 0, timedOut: false, truncated: false, durationMs: 1, outputTail: '> node --test test/invoice.test.js\nok 1 - test/days.test.js', failingTests: [] },
    };
    const paths = selectRepairContext(report, REPO).files.map((file) => file.path);
    expect(paths.filter((path) => path.startsWith('test/'))).toEqual([]);
  });

  it('the route file that serves the path, the entry point, and the code they import, not the tests that request it', () => {
    const { files } = selectRepairContext(contractFailed([acceptance]), REPO);
    expect(files.map((file) => [file.path, file.why])).toEqual([
      ['src/resources/days.js', 'serves /days'],
      ['src/server.js', 'starts the service'],
      ['src/crud.js', 'imported by src/resources/days.js'],
      ['src/app.js', 'imported by src/server.js'],
      ['src/store.js', 'imported by src/crud.js'],
      ['src/resources/index.js', 'imported by src/app.js'],
    ]);
    expect(files[0]!.lines).toEqual([4]);
  });

  it('a droplet that does not start: the files its output names, at their lines, and the entry point with its imports', () => {
    const start: ContractCheck = {
      name: 'droplet starts',
      passed: false,
      expected: 'GET /health answers within 20 s',
      got: 'exited with code 1 before answering; output: TypeError: x is not a function\n    at defineResource (file:///data/repos/1-x/src/crud.js:3:9)',
    };
    const files = selectRepairContext(contractFailed([start]), REPO).files.map((file) => `${file.path} ${file.lines.join(',')}`);
    expect(files.slice(0, 3)).toEqual(['src/crud.js 3', 'src/server.js ', 'src/store.js ']);
    expect(files).toContain('src/app.js ');
  });

  it('a route served generically from a data file: the data file, and the code from the entry point', () => {
    const repo = new Map([
      ['package.json', '{"main":"src/server.js"}'],
      ['src/plan.json', '{"resources": [{"plural": "days"}]}'],
      ['src/plan.js', "const plan = readJson('plan.json');"],
      ['src/server.js', "import './app.js';"],
      ['src/app.js', "import { loadPlan } from './plan.js';\nimport { registerResource } from './crud.js';"],
      ['src/crud.js', "export function registerResource(app, { plural }) { app.post('/' + plural, h); }"],
    ]);
    const paths = selectRepairContext(contractFailed([acceptance]), repo).files.map((file) => file.path);
    expect(paths).toEqual(['src/plan.json', 'src/server.js', 'src/app.js', 'src/plan.js', 'src/crud.js']);
  });
});

describe('the budget', () => {
  const long = Array.from({ length: 400 }, (_, index) => `const line${index + 1} = ${index + 1};`).join('\n');
  const repo = new Map([
    ['test/big.test.js', `import { x } from '../src/big.js';\nimport { y } from '../src/huge.js';\n${long}`],
    ['src/big.js', long],
    ['src/huge.js', `${long}\n${long}`],
  ]);
  const failure: TestFailure = { name: 'big', file: 'test/big.test.js', line: 300, message: 'no', stack: [{ path: 'test/big.test.js', line: 300 }] };

  it('sends long files with lines involved as excerpts, and names those it cannot fit', () => {
    const { files, notShown } = selectRepairContext(testsFailed([failure]), repo, { totalChars: 12_000, excerptOverChars: 4_000, wholeMaxChars: 10_000, maxFiles: 10 });
    expect(files.map((file) => [file.path, file.excerpt])).toEqual([['test/big.test.js', true], ['src/big.js', false]]);
    expect(notShown).toEqual(['src/huge.js']);
    const shown = fileForRepair(files[0]!);
    expect(shown).toContain('## test/big.test.js (excerpt of 402 lines; failing test "big"; change it with edit_file)');
    expect(shown).toContain('  300| const line298 = 298;');
    expect(shown).toContain('    1| import { x }');
    expect(shown).not.toContain('const line200 =');
  });

  it('the prompt names what it left out, and says it can be read when it can', () => {
    const report = testsFailed([failure]);
    const { files, notShown } = selectRepairContext(report, repo, { totalChars: 12_000, excerptOverChars: 4_000, wholeMaxChars: 10_000, maxFiles: 10 });
    const task = repairTask({ dropletId: 1, name: 'x' }, 1, report, files, { notShown, canRead: true });
    expect(task).toContain('# Also involved, not shown (read them with read_file if you need them)\n- src/huge.js');
    expect(repairTask({ dropletId: 1, name: 'x' }, 1, report, files, { notShown })).toContain('# Also involved, not shown\n- src/huge.js');
  });
});

describe('the failure as the repair reads it', () => {
  it('lists each failing test with its location, assertion and stack, from the report', () => {
    const brief = failureBrief(
      testsFailed([
        { name: 'adds the tax', file: 'test/invoice.test.js', line: 4, message: 'Expected values to be strictly equal:\n\n130 !== 120', expected: '120', actual: '130', operator: 'strictEqual', stack: [{ path: 'src/tax.js', line: 1 }, { path: 'test/invoice.test.js', line: 4 }] },
      ]),
    );
    expect(brief).toContain("Failing tests (from the test runner's report):\n- adds the tax (test/invoice.test.js:4)");
    expect(brief).toContain('    expected (strictEqual): 120\n    actual: 130');
    expect(brief).toContain('    at src/tax.js:1 < test/invoice.test.js:4');
  });
});

describe('the same failure twice', () => {
  const failure: TestFailure = { name: 'adds the tax', file: 'test/invoice.test.js', line: 2, message: '130 !== 120', expected: '120', actual: '130', stack: [] };

  it('is the same when the report says the same, whatever the output around it', () => {
    const once = testsFailed([failure]);
    const again = { ...once, tests: { ...once.tests!, durationMs: 99, outputTail: 'ok 1 - something (12ms)\n# duration_ms 812' } };
    expect(failureFingerprint(again)).toBe(failureFingerprint(once));
  });

  it('differs when an assertion came out differently', () => {
    expect(failureFingerprint(testsFailed([{ ...failure, actual: '125', message: '125 !== 120' }]))).not.toBe(failureFingerprint(testsFailed([failure])));
  });
});
