/**
 * The offline author's droplet verified in the bubblewrap sandbox exactly as the
 * executor sets it up: its real HOME hidden, the npm cache under it bound back for the
 * install only, the droplet started behind the port bridge.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFoundationFiles } from '../../src/authors/foundation.js';
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import { DropletVerifier } from '../../src/verify/verifier.js';
import { createSandbox } from '../../src/sandbox/sandbox-factory.js';
import { processesUnder } from '../support/processes.js';

const INTENT = 'Build Analytics Engine for tracking droplet metrics and performance';
const droplet = { dropletId: 7, name: 'analytics-engine' };
let root: string;
let dir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bwrap-offline-'));
  dir = join(root, 'data/repos/7-analytics-engine');
  const author = new OfflineAuthor();
  const foundation = await loadFoundationFiles();
  const signal = new AbortController().signal;
  const spec = await author.writeSpec({ intent: INTENT, droplet, foundation }, { signal });
  const changes = await author.writeCode({ intent: INTENT, droplet, spec: spec.markdown, foundation }, { signal });
  // The SPEC's proof too: its scenarios create records, which the droplet writes to ./data in the sandbox.
  const proof = [{ kind: 'write' as const, path: 'docs/acceptance.json', content: spec.acceptance }, { kind: 'write' as const, path: 'docs/openapi.json', content: spec.openapi }];
  for (const change of [...changes, ...proof]) {
    if (change.kind !== 'write') continue;
    await mkdir(dirname(join(dir, change.path)), { recursive: true });
    await writeFile(join(dir, change.path), change.content);
  }
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the offline droplet in the bubblewrap sandbox', () => {
  it('installs from the cache, passes its tests and every contract check', async () => {
    const choice = createSandbox({
      mode: 'required',
      memoryMb: 2_048,
      maxProcesses: 256,
      dataDir: join(root, 'data'),
      executorHome: homedir(),
      executorCwd: process.cwd(),
      baseEnv: process.env,
      homeDir: join(root, 'data/sandbox-home'),
      npmCacheDir: process.env.npm_config_cache ?? join(homedir(), '.npm'),
    });
    expect(choice.kind).toBe('bubblewrap');
    const verifier = new DropletVerifier({ sandbox: choice.sandbox, installTimeoutMs: 120_000, testTimeoutMs: 120_000, startTimeoutMs: 30_000 });
    const report = await verifier.verify(dir, droplet, { signal: new AbortController().signal });
    expect(report.summary).toMatch(/passed/);
    expect(report.passed).toBe(true);
    expect(report.contract!.every((check) => check.passed)).toBe(true);
    expect(report.acceptance?.length).toBeGreaterThan(0);
    expect(report.acceptance!.every((scenario) => scenario.passed)).toBe(true);
    expect(processesUnder(dir)).toEqual([]);
  });
});
