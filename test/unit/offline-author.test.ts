import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { FOUNDATION_DIR, loadFoundationFiles } from '../../src/authors/foundation.js';
import { OfflineAuthor, installedFastifyVersion, planDroplet } from '../../src/authors/offline/index.js';
import type { CodeRequest, FoundationFile, RepairRequest } from '../../src/domain/ports/author.js';
import type { FileChange } from '../../src/domain/files.js';
import { CancelledError } from '../../src/domain/errors.js';
import type { VerificationReport } from '../../src/domain/verification.js';

const run = promisify(execFile);
const SEED_INTENT = 'Build Analytics Engine for tracking droplet metrics and performance';
const droplet = { dropletId: 13, name: 'analytics-engine' };
const signal = new AbortController().signal;
const foundation: FoundationFile[] = [
  { path: 'UDC.md', content: '# UDC' },
  { path: 'nested/TEMPLATES.md', content: '# Templates' },
];

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'offline-author-'));
  tempDirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

function codeRequest(intent = SEED_INTENT): CodeRequest {
  return { intent, droplet, spec: '# spec', foundation };
}

function writes(changes: FileChange[]): Map<string, string> {
  return new Map(changes.map((change) => [change.path, change.kind === 'write' ? change.content : '']));
}

const failure: VerificationReport = {
  passed: false,
  stage: 'tests',
  summary: 'npm test failed.',
  childProcessMs: 10,
};

// The reading itself (singulars, names, fields, coverage) is tested in intent-reading.test.ts.
describe('resource derivation', () => {
  it.each([
    [SEED_INTENT, ['metrics', 'performance']],
    // A notification service is the notification hub archetype: it keeps no records of its own.
    ['Create a notification service that sends alerts to users', []],
    ['Build a task queue to schedule background jobs', ['background-jobs']],
    ['Build a blog engine for posts, comments and authors', ['posts', 'comments', 'authors']],
    ['Inventory tracker', ['inventories']],
    ['Build a tool for health', ['items']],
  ])('%s → %j', (intent, expected) => {
    expect(planDroplet(intent, droplet).resources.map((resource) => resource.plural)).toEqual(expected);
  });
});

describe('OfflineAuthor', () => {
  const author = new OfflineAuthor();

  it('is the offline author and pins the Fastify (and schema compiler) versions installed here', async () => {
    expect(author.id).toBe('offline');
    const installed = JSON.parse(await readFile(new URL('../../node_modules/fastify/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(installedFastifyVersion()).toBe(installed.version);
    const pkg = JSON.parse(writes(await author.writeCode(codeRequest(), { signal })).get('package.json')!) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      name: 'analytics-engine',
      type: 'module',
      main: 'src/server.js',
      scripts: { start: 'node src/server.js', test: 'node --test test/index.js' },
      engines: { node: '>=20.12' },
      dependencies: { fastify: installed.version },
    });
    const compiler = JSON.parse(await readFile(new URL('../../node_modules/@fastify/ajv-compiler/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(pkg.dependencies).toEqual({ fastify: installed.version, '@fastify/ajv-compiler': compiler.version });
  });

  it('gives byte-identical output for the same request, from separate instances', async () => {
    const other = new OfflineAuthor();
    const specRequest = { intent: SEED_INTENT, droplet, foundation };
    expect((await other.writeSpec(specRequest, { signal })).markdown).toBe((await author.writeSpec(specRequest, { signal })).markdown);
    expect(JSON.stringify(await other.writeCode(codeRequest(), { signal }))).toBe(
      JSON.stringify(await author.writeCode(codeRequest(), { signal })),
    );
  });

  it('writes a SPEC with every section, the endpoints and the foundation files it was given', async () => {
    const { markdown } = await author.writeSpec({ intent: SEED_INTENT, droplet, foundation }, { signal });
    const sections = [...markdown.matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    expect(sections).toEqual(['Purpose', 'Endpoints', 'Data model', 'Not covered', 'UDC compliance', 'Success criteria', 'Built against']);
    for (const endpoint of ['/health', '/capabilities', '/state', '/dependencies', '/message', '/metrics/:id', '/performance/:id']) {
      expect(markdown).toContain(`\`${endpoint}\``);
    }
    expect(markdown).toContain(`${SEED_INTENT}.`);
    expect(markdown).toContain('- `foundation-files/UDC.md`');
    expect(markdown).toContain('- `foundation-files/nested/TEMPLATES.md`');
    expect(markdown).toContain('| `value` | number | yes |');
  });

  it('says in its SPEC what of the intent it does not do, and returns the coverage beside it', async () => {
    const intent = 'I want to keep track of my books and the people I lend them to';
    const spec = await author.writeSpec({ intent, droplet, foundation }, { signal });
    expect(spec.coverage).toEqual({ covered: ['books', 'people'], not_covered: ['the people i lend them to'] });
    const section = spec.markdown.split('## Not covered\n')[1]!.split('\n## ')[0]!;
    expect(section).toContain('- "the people i lend them to"');
    expect(section).toContain('It serves "books", "people".');
    // An archetype covers its words but says what it cannot do alone: the hub sends no email by itself.
    const hub = await author.writeSpec({ intent: 'Build a notification hub that fans out messages to email and slack', droplet, foundation }, { signal });
    expect(hub.coverage?.not_covered).toEqual([]);
    expect(hub.markdown.split('## Not covered\n')[1]!.split('\n## ')[0]!).toMatch(/cannot on its own:\n\n- send email: it speaks no SMTP/);
    const seed = await author.writeSpec({ intent: SEED_INTENT, droplet, foundation }, { signal });
    expect(seed.markdown).toContain('## Not covered\n\nNothing that the offline author could tell');
  });

  it('shows the field kinds it read in the data model', async () => {
    const intent = 'Track warehouses with a website, an email and a due date, and stock levels per warehouse recorded at set times';
    const { markdown } = await author.writeSpec({ intent, droplet, foundation }, { signal });
    for (const row of [
      '| `website` | URL (at most 2000 characters) | no |',
      '| `email` | email address | no |',
      '| `due_date` | date (YYYY-MM-DD) | no |',
      '| `quantity` | integer | yes |',
      '| `warehouse_id` | id of a `warehouses` record (422 when there is none) | yes |',
      '| `recorded_at` | ISO 8601 date-time | no |',
    ]) {
      expect(markdown).toContain(row);
    }
  });

  it('writes the skeleton files and the plan as data, at safe relative paths', async () => {
    const changes = await author.writeCode(codeRequest(), { signal });
    const paths = changes.map((change) => change.path);
    expect(changes.every((change) => change.kind === 'write')).toBe(true);
    expect(new Set(paths).size).toBe(paths.length);
    expect(paths).toEqual([...paths].sort());
    for (const path of paths) {
      expect(path).toMatch(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/);
      expect(path.split('/')).not.toContain('..');
      expect(path.startsWith('.git/')).toBe(false);
    }
    for (const expected of [
      'package.json', 'README.md', '.env.example', '.gitignore', 'src/server.js', 'src/app.js', 'src/udc.js', 'src/metrics.js',
      'src/plan.json', 'src/manifest.json', 'src/crud.js', 'src/store.js', 'test/index.js', 'test/udc.test.js', 'test/resources.test.js',
    ]) {
      expect(paths).toContain(expected);
    }
    expect(writes(changes).get('.gitignore')).toContain('node_modules');
    expect(writes(changes).get('.gitignore')).toContain('/data/');
    expect(writes(changes).get('.env.example')).toContain('DATA_DIR=data');
  });

  it('derives different resources from a different intent', async () => {
    const seed = writes(await author.writeCode(codeRequest(), { signal }));
    const files = writes(await author.writeCode(codeRequest('Build a blog engine for posts, comments and authors'), { signal }));
    const plan = JSON.parse(files.get('src/plan.json')!) as { resources: { plural: string }[] };
    expect(plan.resources.length).toBeGreaterThan(0);
    expect(files.get('src/plan.json')).not.toBe(seed.get('src/plan.json'));
    // The code is the skeleton's, the same for every droplet: only the data differs.
    expect(files.get('src/crud.js')).toBe(seed.get('src/crud.js'));
  });

  it('keeps a hostile intent out of the code: every generated JavaScript file still parses', async () => {
    const intent = 'Build a tool for notes"; process.exit(1); // `${process.env.API_TOKEN}` \u2028 */ </script>';
    const dir = await tempDir();
    const changes = await author.writeCode({ ...codeRequest(intent), droplet: { dropletId: 4, name: 'notes-tool' } }, { signal });
    for (const change of changes) {
      if (change.kind !== 'write') continue;
      await mkdir(dirname(join(dir, change.path)), { recursive: true });
      await writeFile(join(dir, change.path), change.content);
    }
    const scripts = changes.map((change) => change.path).filter((path) => path.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(10);
    for (const script of scripts) {
      await expect(run(process.execPath, ['--check', join(dir, script)])).resolves.toBeDefined();
    }
    expect((JSON.parse(writes(changes).get('src/manifest.json')!) as { description: string }).description).toBe(`${intent}.`.replace(/\s+/g, ' '));
  });

  it('repair returns only the generated files that differ from what it was shown', async () => {
    const generated = writes(await author.writeCode(codeRequest(), { signal }));
    const request: RepairRequest = {
      ...codeRequest(),
      attempt: 1,
      failure,
      files: [
        { path: 'src/app.js', content: 'broken', why: 'in a stack trace', lines: [1], excerpt: false },
        { path: 'src/udc.js', content: generated.get('src/udc.js')!, why: 'imported by src/app.js', lines: [], excerpt: false },
        { path: 'package-lock.json', content: '{}', why: 'the lockfile', lines: [], excerpt: false },
      ],
    };
    const repaired = await author.repair(request, { signal });
    expect(repaired).toEqual([{ kind: 'write', path: 'src/app.js', content: generated.get('src/app.js') }]);
  });

  it('repair regenerates every file when nothing it was shown differs, so it is never empty', async () => {
    const generated = await author.writeCode(codeRequest(), { signal });
    const shown = [...writes(generated)].map(([path, content]) => ({ path, content, why: 'generated', lines: [], excerpt: false }));
    for (const files of [shown, []]) {
      const repaired = await author.repair({ ...codeRequest(), attempt: 2, failure, files }, { signal });
      expect(repaired).toEqual(generated);
    }
  });

  it('refuses to work once the build is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(author.writeCode(codeRequest(), { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    await expect(author.writeSpec({ intent: SEED_INTENT, droplet, foundation }, { signal: controller.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
  });
});

describe('loadFoundationFiles', () => {
  it('reads the project foundation files', async () => {
    const files = await loadFoundationFiles(FOUNDATION_DIR);
    expect(files.map((file) => file.path)).toEqual(['ACCEPTANCE.md', 'SECURITY.md', 'TECH_STACK.md', 'TESTING.md', 'UDC.md']);
    expect(files.find((file) => file.path === 'UDC.md')?.content).toContain('"authentication": { "type": "bearer", "env": "API_TOKEN" }');
  });

  it('reads *.md recursively with sorted, relative, slash-separated paths', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'b', 'deep'), { recursive: true });
    await writeFile(join(dir, 'Z.md'), 'z');
    await writeFile(join(dir, 'a.md'), 'a');
    await writeFile(join(dir, 'b', 'deep', 'c.md'), 'c');
    await writeFile(join(dir, 'b', 'notes.txt'), 'not markdown');
    const files = await loadFoundationFiles(dir);
    expect(files).toEqual([
      { path: 'Z.md', content: 'z' },
      { path: 'a.md', content: 'a' },
      { path: 'b/deep/c.md', content: 'c' },
    ]);
  });
});
