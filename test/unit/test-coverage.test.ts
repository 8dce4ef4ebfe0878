import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FOUNDATION_DIR, loadFoundationFiles } from '../../src/authors/foundation.js';
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import { tokenize } from '../../src/verify/js-tokens.js';
import { requestedPaths, targetPath } from '../../src/verify/request-targets.js';
import { checkTestCoverage, describeCoverageFailure, globPattern, TEST_COVERAGE_CHECK, testFiles } from '../../src/verify/test-coverage.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'coverage-test-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const ALL_FIVE = `
const base = 'http://127.0.0.1:3000';
await fetch(\`\${base}/health\`);
await app.inject({ method: 'GET', url: '/capabilities', headers: AUTH });
await request(app).get("/state?fresh=1");
await fetch(base + '/dependencies');
await fetch(\`http://\${host}:\${port}/message\`, { method: 'POST' });
`;

describe('tokenize', () => {
  it('reads strings, templates with nested code, regexes and divisions', () => {
    const tokens = tokenize("const a = 'x\\'y'; const b = `p${ f(`q${'r'}`) }s`; const re = /a\\/b[/]c/g; const d = 4 / 2 / 1;");
    expect(tokens.filter((t) => t.kind === 'string').map((t) => t.text)).toEqual(["x'y", 'r']);
    expect(tokens.filter((t) => t.kind === 'template').map((t) => t.text)).toEqual(['p\u0000s', 'q\u0000']);
    expect(tokens.filter((t) => t.kind === 'regex').map((t) => t.text)).toEqual(['/a\\/b[/]c/g']);
    expect(tokens.filter((t) => t.kind === 'punct' && t.text === '/')).toHaveLength(2);
  });

  it('skips line and block comments but not // inside strings', () => {
    const tokens = tokenize("// '/state'\n/* '/health' */ const url = 'http://x/health';");
    expect(tokens.filter((t) => t.kind === 'string').map((t) => t.text)).toEqual(['http://x/health']);
  });
});

describe('targetPath', () => {
  it('accepts paths, URLs and templates that end in a path', () => {
    expect(targetPath('/health')).toBe('/health');
    expect(targetPath('/health/')).toBe('/health');
    expect(targetPath('http://127.0.0.1:3000/state?x=1#y')).toBe('/state');
    expect(targetPath('\u0000/message')).toBe('/message');
    expect(targetPath('http://\u0000:\u0000/capabilities')).toBe('/capabilities');
  });

  it('refuses prose, relative words and paths with holes inside', () => {
    expect(targetPath('GET /health answers')).toBeNull();
    expect(targetPath('health')).toBeNull();
    expect(targetPath('/widgets/\u0000')).toBeNull();
    expect(targetPath('')).toBeNull();
  });
});

describe('requestedPaths', () => {
  it('finds every request target of a test file', () => {
    expect([...requestedPaths(ALL_FIVE)].sort()).toEqual(['/capabilities', '/dependencies', '/health', '/message', '/state']);
  });

  it('does not count comments or test titles', () => {
    const source = `
      // await fetch('/state');
      /* await fetch('/dependencies'); */
      test('/capabilities', async () => { await fetch('/health'); });
      it(\`/message\`, () => {});
    `;
    expect([...requestedPaths(source)]).toEqual(['/health']);
  });

  it('does not count switched-off tests, whichever way they are switched off', () => {
    const source = `
      test.skip('state', async () => { await fetch('/state'); });
      it.todo('deps', () => fetch('/dependencies'));
      xit('caps', () => fetch('/capabilities'));
      describe.skip('suite', () => { test('m', () => fetch('/message')); });
      test('skipped by option', { skip: 'flaky' }, async () => { await fetch('/a'); });
      test('todo by option', { todo: true }, async () => { await fetch('/b'); });
      test('not skipped', { skip: false }, async () => { await fetch('/health'); });
      test('body with an object', async (t) => { const o = { skip: true }; await fetch('/c'); });
      regex.test('/d');
    `;
    expect([...requestedPaths(source)].sort()).toEqual(['/c', '/d', '/health']);
  });
});

describe('testFiles', () => {
  it('takes conventional test files and what scripts.test names, never node_modules, dot-folders or links', async () => {
    const dir = await workspace({
      'package.json': JSON.stringify({ scripts: { test: 'node --test && node scripts/run-e2e.js "e2e/**/*.mjs"' } }),
      'test/a.test.js': '',
      'test/helpers.js': '',
      'src/b.spec.ts': '',
      'src/server.js': '',
      'scripts/run-e2e.js': '',
      'e2e/deep/c.mjs': '',
      'node_modules/x/test/d.test.js': '',
      '.hidden/test/e.test.js': '',
      'README.md': '',
    });
    await symlink('/etc', join(dir, 'test', 'etc'));
    await symlink('/etc/hostname', join(dir, 'test', 'link.test.js'));
    expect(await testFiles(dir)).toEqual(['e2e/deep/c.mjs', 'scripts/run-e2e.js', 'src/b.spec.ts', 'test/a.test.js', 'test/helpers.js']);
  });

  it('turns globs into patterns', () => {
    expect(globPattern('test/**/*.test.{js,ts}').test('test/a/b/c.test.ts')).toBe(true);
    expect(globPattern('test/**/*.test.{js,ts}').test('test/c.test.js')).toBe(true);
    expect(globPattern('test/*.js').test('test/a/b.js')).toBe(false);
  });
});

describe('checkTestCoverage', () => {
  it('passes when the test files together request all five endpoints', async () => {
    const dir = await workspace({ 'test/a.test.js': ALL_FIVE.split('\n').slice(0, 4).join('\n'), 'test/b.test.js': ALL_FIVE.split('\n').slice(4).join('\n') });
    const coverage = await checkTestCoverage(dir);
    expect(coverage.check).toMatchObject({ name: TEST_COVERAGE_CHECK, passed: true });
    expect(coverage.missing).toEqual([]);
    expect(describeCoverageFailure(coverage)).toBeNull();
  });

  it('names the endpoints no test requests', async () => {
    const dir = await workspace({ 'test/a.test.js': "fetch('/health'); fetch('/message'); // fetch('/state')\n" });
    const coverage = await checkTestCoverage(dir);
    expect(coverage.check.passed).toBe(false);
    expect(coverage.missing).toEqual(['GET /capabilities', 'GET /state', 'GET /dependencies']);
    expect(coverage.check.got).toContain('GET /capabilities, GET /state, GET /dependencies');
    expect(describeCoverageFailure(coverage)).toBe(
      "The droplet's own tests do not cover every UDC endpoint: no test requests GET /capabilities, GET /state, GET /dependencies.",
    );
  });

  it('fails a droplet without test files', async () => {
    const dir = await workspace({ 'src/server.js': "fetch('/health')" });
    const coverage = await checkTestCoverage(dir);
    expect(coverage.check.passed).toBe(false);
    expect(coverage.check.got).toMatch(/^no test files/);
    expect(describeCoverageFailure(coverage)).toMatch(/no test files/);
  });

  it("passes the offline author's droplet", async () => {
    const author = new OfflineAuthor();
    const request = { intent: 'Build Analytics Engine for tracking droplet metrics and performance', droplet: { dropletId: 13, name: 'analytics-engine' }, spec: '# spec', foundation: await loadFoundationFiles(FOUNDATION_DIR) };
    const changes = await author.writeCode(request, { signal: new AbortController().signal });
    const dir = await workspace(Object.fromEntries(changes.flatMap((change) => (change.kind === 'write' ? [[change.path, change.content]] : []))));
    const coverage = await checkTestCoverage(dir);
    expect(coverage.check.got).toMatch(/^all 5 requested/);
    expect(coverage.check.passed).toBe(true);
  });

  it('fails, promptly and naming it, when package.json is a FIFO or a link to /dev/zero', { timeout: 5_000 }, async () => {
    const dir = await workspace({ 'test/a.test.js': ALL_FIVE });
    execFileSync('mkfifo', [join(dir, 'package.json')]);
    const fifo = await checkTestCoverage(dir);
    expect(fifo.check).toMatchObject({ passed: false, got: 'refused to read a file: package.json is a FIFO, not a regular file' });
    expect(fifo.refused).toEqual(['package.json is a FIFO, not a regular file']);
    expect(describeCoverageFailure(fifo)).toBe("The droplet's tests could not be checked: a file was refused (package.json is a FIFO, not a regular file).");

    await rm(join(dir, 'package.json'));
    await symlink('/dev/zero', join(dir, 'package.json'));
    const zero = await checkTestCoverage(dir);
    expect(zero.check).toMatchObject({ passed: false, got: 'refused to read a file: package.json is a symbolic link' });
  });

  it('never opens a test file that is a FIFO or a link, and fails naming a test file over 1 MiB', { timeout: 5_000 }, async () => {
    const dir = await workspace({ 'test/a.test.js': ALL_FIVE, 'package.json': JSON.stringify({ scripts: { test: 'node --test test/' } }) });
    execFileSync('mkfifo', [join(dir, 'test', 'pipe.test.js')]);
    await symlink('/dev/zero', join(dir, 'test', 'zero.test.js'));
    const quiet = await checkTestCoverage(dir);
    expect(quiet.check.passed).toBe(true);
    expect(quiet.files).toEqual(['test/a.test.js']);

    await writeFile(join(dir, 'test', 'big.test.js'), `${ALL_FIVE}\n${'/'.repeat(1024 * 1024)}`);
    const big = await checkTestCoverage(dir);
    expect(big.check).toMatchObject({ passed: false, got: 'refused to read a file: test/big.test.js is larger than 1048576 bytes' });
    expect(big.refused).toEqual(['test/big.test.js is larger than 1048576 bytes']);
  });
});
