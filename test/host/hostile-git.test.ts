/**
 * Git never runs code from the generated repository. An author that tries to write into
 * `.git/` is refused; a droplet test that plants hooks, `core.fsmonitor`, a filter,
 * a diff driver and `diff.external` while it runs (tests run with the workspace
 * writable) gets none of them run by the executor's own git, through every commit and
 * tag the rest of the build makes. A plain git in the same repository afterwards does
 * run them, which is what shows the plant was real.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileChange } from '../../src/domain/files.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import { PlantingAuthor } from '../support/planting-author.js';

let markers: string;
let ranLog: string;
let server: TestExecutor;

/** A script that records that it ran, outside the repository (and passes content through, as a filter must). */
const plantedScript = (log: string) => `#!/bin/sh\necho "$(basename "$0") $*" >> '${log}'\n[ "$1" = filter ] && exec cat\nexit 0\n`;

/** A node:test file that plants everything git could run, from inside the droplet's test run. */
function plantingTest(log: string): string {
  const config = [
    '[core]',
    '\tfsmonitor = .git/hooks/planted.sh fsmonitor',
    '[diff]',
    '\texternal = .git/hooks/planted.sh diff-external',
    '[filter "planted"]',
    '\tclean = .git/hooks/planted.sh filter clean',
    '\tsmudge = .git/hooks/planted.sh filter smudge',
    '\trequired = true',
    '[diff "planted"]',
    '\ttextconv = .git/hooks/planted.sh textconv',
    '',
  ].join('\n');
  return `import { test } from 'node:test';
import { appendFileSync, chmodSync, writeFileSync } from 'node:fs';

test('leaves something for git to run', () => {
  try {
    const script = ${JSON.stringify(plantedScript(log))};
    for (const name of ['planted.sh', 'pre-commit', 'post-commit', 'reference-transaction', 'post-index-change']) {
      writeFileSync('.git/hooks/' + name, script);
      chmodSync('.git/hooks/' + name, 0o755);
    }
    appendFileSync('.git/config', ${JSON.stringify(config)});
    writeFileSync('.gitattributes', '* filter=planted diff=planted\\n');
    console.log('GIT-PLANTED');
  } catch (error) {
    // An isolating sandbox may keep .git read-only: that is a refusal too.
    console.log('GIT-PLANT-REFUSED', error.code);
  }
});
`;
}

beforeAll(async () => {
  markers = mkdtempSync(join(tmpdir(), 'hostile-git-markers-'));
  ranLog = join(markers, 'ran.log');
  server = await startExecutor(
    {},
    {
      author: new PlantingAuthor((intent): FileChange[] => {
        if (intent.includes('Hook Planter')) return [{ kind: 'write', path: '.git/hooks/pre-commit', content: plantedScript(ranLog) }];
        if (intent.includes('Config Planter')) return [{ kind: 'write', path: 'test/git-plant.test.js', content: plantingTest(ranLog) }];
        return [];
      }),
    },
  );
});

afterAll(async () => {
  await server?.close();
  rmSync(markers, { recursive: true, force: true });
});

/** Plain git, isolated from the machine's config but not hardened. */
function plainGit(cwd: string, ...args: string[]): void {
  try {
    execFileSync('git', args, {
      cwd,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t',
      },
    });
  } catch {
    // what it ran is what counts
  }
}

describe('git never runs code from the generated repository', () => {
  it('refuses an author that writes .git/hooks/pre-commit, before anything is written', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Hook Planter for release notes', approval_mode: 'auto' });
    const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(failed.steps[3]).toMatchObject({ step: 'apprentice_build', status: 'failed', error: { code: 'UNSAFE_PATH' } });
    expect(failed.steps[3]!.error!.message).toBe('Refused path ".git/hooks/pre-commit": it touches the .git directory.');
    expect(failed.error?.message).toContain('.git/hooks/pre-commit');
    expect(existsSync(join(failed.repository_path!, '.git', 'hooks', 'pre-commit'))).toBe(false);
    expect(existsSync(join(failed.repository_path!, 'package.json'))).toBe(false);
    expect(existsSync(ranLog)).toBe(false);
  });

  it('runs none of the hooks, fsmonitor, filters or diff drivers a droplet test plants, through the whole build', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Config Planter for team settings', approval_mode: 'auto' });
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    const repository = done.repository_path!;
    expect(done.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));

    // After the plant the build went on committing: the verification report, the deploy record and tag, the registration, the notifications.
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body;
    expect(events.length).toBeGreaterThan(10);
    const log = execFileSync('git', ['--git-dir', join(repository, '.git'), 'log', '--format=%s'], { encoding: 'utf8', env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
    expect(log).toContain('verification attempt 1 passed');
    expect(log.split('\n').length).toBeGreaterThan(20);
    expect(existsSync(ranLog)).toBe(false);
    const health = (await api<{ status: string; sandbox: string }>(server.baseUrl, '/executor/health')).body;
    expect(health.status).toBe('healthy');

    const testOutput = (done.steps[4]!.details.report as { tests: { outputTail: string } }).tests.outputTail;
    // Only an isolating sandbox can keep the test from writing .git.
    if (health.sandbox !== 'process' && testOutput.includes('GIT-PLANT-REFUSED')) {
      // The sandbox kept .git read-only: nothing was planted at all.
      expect(existsSync(join(repository, '.git', 'hooks', 'planted.sh'))).toBe(false);
      expect(readFileSync(join(repository, '.git', 'config'), 'utf8')).not.toContain('planted');
      return;
    }
    expect(testOutput).toContain('GIT-PLANTED');
    expect(readFileSync(join(repository, '.git', 'config'), 'utf8')).toContain('fsmonitor = .git/hooks/planted.sh');

    // Control: plain git in the same repository runs what was planted.
    plainGit(repository, 'status');
    execFileSync('sh', ['-c', 'echo changed >> README.md'], { cwd: repository });
    plainGit(repository, 'add', 'README.md');
    plainGit(repository, '-c', 'core.fsmonitor=false', 'commit', '-q', '-m', 'control');
    plainGit(repository, '-c', 'diff.planted.textconv=', 'diff', 'HEAD~1', 'HEAD');
    const ran = readFileSync(ranLog, 'utf8');
    for (const what of ['fsmonitor', 'filter clean', 'pre-commit', 'post-commit', 'reference-transaction', 'diff-external']) {
      expect(ran).toContain(what);
    }
  });
});
