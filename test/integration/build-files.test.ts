/**
 * The dashboard's data endpoints over real HTTP on loopback, against a real offline
 * build that needed a repair (its PUT route left out, as in acceptance-repair.test.ts):
 * the files listed are `git ls-tree`'s, their content is git's, no path leads outside
 * the tree, the repair's diff is the commit's, and all of it needs the API token.
 */
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildView } from '../../src/domain/status.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import { RouteDroppingAuthor } from '../support/route-dropping-author.js';
import { expectUdcError } from '../support/udc-error.js';

const API_TOKEN = 'build-files-test-api-token';
const auth = { authorization: `Bearer ${API_TOKEN}` };

/** A GET whose path goes out exactly as written (fetch would resolve `..` and `%2e%2e` first). */
function rawGet(baseUrl: string, path: string, headers: Record<string, string> = auth): Promise<{ statusCode: number; json(): unknown }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    const sent = request({ hostname, port, path, method: 'GET', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ statusCode: response.statusCode ?? 0, json: () => JSON.parse(text) as unknown }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.quotePath=false', ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
}

interface FileList {
  commit: string | null;
  files: { path: string; size: number }[];
}
interface Repair {
  attempt: number;
  commit: string;
  message: string;
  files: string[];
  diff: string;
  truncated: boolean;
}

let server: TestExecutor;
let build: BuildView;
let repoPath: string;
/** The newest commit the build made, by plain git. */
let latest: string;

beforeAll(async () => {
  server = await startExecutor({ DEPLOY_TARGET: 'none', API_TOKEN }, { author: new RouteDroppingAuthor() });
  const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build a bookmark service that stores links with tags', approval_mode: 'auto' }, auth);
  build = await waitForStatus(server.baseUrl, buildId, ['completed', 'failed'], 240_000, auth);
  expect(build.status, JSON.stringify(build.error)).toBe('completed');
  repoPath = build.repository_path!;
  latest = git(repoPath, 'log', '-1', '--format=%H', '--fixed-strings', `--grep=Executor-Build: ${buildId}`).trim();
}, 300_000);

afterAll(async () => {
  await server?.close();
});

const filesUrl = () => `/executor/builds/${build.build_id}/files`;

describe('GET /executor/builds/:id/files', () => {
  it("lists the tracked files of the build's newest commit, as git ls-tree does", async () => {
    const { status, body } = await api<FileList>(server.baseUrl, filesUrl(), { headers: auth });
    expect(status).toBe(200);
    expect(body.commit).toBe(latest);
    const listed = git(repoPath, 'ls-tree', '-r', '-l', latest)
      .trim()
      .split('\n')
      .map((line) => {
        const [meta, path] = line.split('\t');
        return { path: path!, size: Number(meta!.split(/ +/)[3]) };
      });
    expect(body.files).toEqual(listed);
    expect(body.files.map((file) => file.path)).toEqual(expect.arrayContaining(['src/crud.js', 'docs/SPEC.md', 'package.json']));
  });

  it("serves a file's content as the commit holds it", async () => {
    for (const path of ['src/crud.js', 'docs/SPEC.md']) {
      const { status, body } = await api<Record<string, unknown>>(server.baseUrl, `${filesUrl()}/${path}`, { headers: auth });
      expect(status).toBe(200);
      const committed = git(repoPath, 'show', `${latest}:${path}`);
      expect(body).toEqual({ path, size: Buffer.byteLength(committed), commit: latest, content: committed, binary: false, truncated: false });
    }
  });

  it('serves nothing outside the tree: traversal, absolute, encoded and untracked paths are refused', async () => {
    const base = filesUrl();
    for (const path of ['../../../../etc/passwd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'src/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '%2Fetc%2Fpasswd', '/etc/passwd', 'src//crud.js', './src/crud.js']) {
      const error = expectUdcError(await rawGet(server.baseUrl, `${base}/${path}`), 400, 'INVALID_INPUT');
      expect(error.message, path).toMatch(/repository-relative file path/);
    }
    for (const path of ['.git/config', '.git/HEAD', 'node_modules/.package-lock.json', 'src/nope.js', 'SRC/CRUD.JS']) {
      expectUdcError(await rawGet(server.baseUrl, `${base}/${path}`), 404, 'NOT_FOUND');
    }
  });
});

describe('GET /executor/builds/:id/repairs', () => {
  it("gives the repair commit of the test→repair loop with the commit's diff", async () => {
    const { status, body } = await api<{ repairs: Repair[] }>(server.baseUrl, `/executor/builds/${build.build_id}/repairs`, { headers: auth });
    expect(status).toBe(200);
    const events = (await api<{ type: string; data: Record<string, unknown> }[]>(server.baseUrl, `/executor/builds/${build.build_id}/events?after=0`, { headers: auth })).body;
    const repairEvent = events.find((event) => event.type === 'step.progress' && typeof event.data.commit === 'string' && event.data.attempt === 1)!;
    expect(body.repairs).toHaveLength(1);
    const [repair] = body.repairs;
    expect(repair).toMatchObject({ attempt: 1, commit: repairEvent.data.commit, message: 'fix: repair after verification attempt 1', truncated: false });
    expect(repair!.files).toEqual(git(repoPath, 'diff-tree', '-r', '--no-commit-id', '--name-only', repair!.commit).trim().split('\n'));
    expect(repair!.files).toContain('src/crud.js');
    expect(repair!.diff).toBe(git(repoPath, 'diff-tree', '-p', '--no-commit-id', '--no-color', repair!.commit));
    // The repair put the PUT route back.
    expect(repair!.diff).toMatch(/^\+ {2}app\.put\(base \+ '\/:id'/m);
  });
});

describe('errors and auth', () => {
  it('answers 404 in the UDC shape for an unknown build, and 400 for a malformed id', async () => {
    for (const path of ['/executor/builds/build-999-nothing-here/files', '/executor/builds/build-999-nothing-here/files/src/crud.js', '/executor/builds/build-999-nothing-here/repairs']) {
      expectUdcError(await rawGet(server.baseUrl, path), 404, 'NOT_FOUND');
    }
    expectUdcError(await rawGet(server.baseUrl, '/executor/builds/not-a-build/files'), 400, 'INVALID_INPUT');
  });

  it('needs the API token on every one of them', async () => {
    for (const path of [filesUrl(), `${filesUrl()}/src/crud.js`, `/executor/builds/${build.build_id}/repairs`]) {
      expectUdcError(await rawGet(server.baseUrl, path, {}), 401, 'UNAUTHORIZED');
      expectUdcError(await rawGet(server.baseUrl, path, { authorization: 'Bearer wrong-token' }), 401, 'UNAUTHORIZED');
      expect((await rawGet(server.baseUrl, path)).statusCode).toBe(200);
    }
  });
});
