/** Cancel, retry and the repair loop, through the real pipeline. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import type { Author } from '../../src/domain/ports/author.js';
import type { FileChange } from '../../src/domain/files.js';
import type { BuildSummary, BuildView } from '../../src/domain/status.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { ConflictError } from '../../src/domain/errors.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus, waitForStep } from '../support/executor.js';
import { eventually, processesUnder } from '../support/processes.js';

describe('cancel and retry', () => {
  let server: TestExecutor;
  beforeAll(async () => {
    server = await startExecutor();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('DELETE during the verifier stops at once and leaves no child process', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Ticket Desk for support requests', approval_mode: 'auto' });
    const running = await waitForStep(server.baseUrl, buildId, 'verifier');
    // Cancel only once the verifier really has children at work (npm install or tests).
    expect(await eventually(() => processesUnder(running.repository_path!).length > 0, 60_000)).toBe(true);
    const response = await api<BuildSummary>(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ build_id: buildId, status: 'cancelled', current_step_number: 5 });
    expect(response.body).not.toHaveProperty('steps');
    const cancelled = (await api<BuildView>(server.baseUrl, `/executor/builds/${buildId}/status`)).body;
    expect(cancelled.steps[4]).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(processesUnder(running.repository_path!)).toEqual([]);
    expect(processesUnder(server.dataDir)).toEqual([]);

    const again = await api(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    expect(again.status).toBe(409);

    // Retry (default: the first unfinished step) keeps steps 1-4 as they were.
    const before = cancelled.steps.slice(0, 4);
    const retried = await api<BuildSummary>(server.baseUrl, `/executor/builds/${buildId}/retry`, { method: 'POST' });
    expect(retried.status).toBe(202);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(done.steps.slice(0, 4)).toEqual(before);
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body;
    expect(events.find((event) => event.type === 'build.retried')?.data).toEqual({ from_step: 5 });
  });

  it('retries from an earlier step when asked, and refuses a step past the unfinished one', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Poll Booth for team votes', approval_mode: 'final', auto_deploy: false });
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    await api(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    const tooFar = await api(server.baseUrl, `/executor/builds/${buildId}/retry?from_step=8`, { method: 'POST' });
    expect(tooFar.status).toBe(409);
    const cancelledView = (await api<BuildView>(server.baseUrl, `/executor/builds/${buildId}/status`)).body;

    const retried = await api<BuildSummary>(server.baseUrl, `/executor/builds/${buildId}/retry?from_step=2`, { method: 'POST' });
    expect(retried.status).toBe(202);
    // Queued again with only step 1 done (1 of 8 steps: 13%); the steps themselves are in …/status.
    expect(retried.body).toMatchObject({ build_id: buildId, status: 'queued', progress_percent: 13 });
    expect(retried.body).not.toHaveProperty('steps');
    // The gate asks again: its earlier decision belonged to the steps being redone.
    const waiting = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(waiting.steps[0]).toEqual(cancelledView.steps[0]);
    expect(waiting.steps[1]!.completed_at).not.toBe(cancelledView.steps[1]!.completed_at);
    await api(server.baseUrl, `/executor/builds/${buildId}/approve`, { body: { approved: true } });
    await waitForStatus(server.baseUrl, buildId, ['completed']);
  });

  it('refuses to retry a build that has not failed or been cancelled', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Quote Keeper for memorable quotes', approval_mode: 'final', auto_deploy: false });
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    const response = await api(server.baseUrl, `/executor/builds/${buildId}/retry`, { method: 'POST' });
    expect(response.status).toBe(409);
    await api(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
  });
});

/** An author that breaks a test on the first try and lets the offline author repair it. */
class FlakyFirstAuthor implements Author {
  readonly id = 'scripted';
  readonly description = 'breaks one test first, then repairs';
  private readonly offline = new OfflineAuthor();
  repairs = 0;
  writeSpec: Author['writeSpec'] = (request, options) => this.offline.writeSpec(request, options);
  async writeCode(...args: Parameters<Author['writeCode']>): Promise<FileChange[]> {
    const files = await this.offline.writeCode(...args);
    return files.map((file) =>
      file.kind === 'write' && file.path === 'test/udc.test.js'
        ? { ...file, content: `${file.content}\nimport { test as broken } from 'node:test';\nbroken('deliberately broken on attempt 1', () => { throw new Error('boom'); });\n` }
        : file,
    );
  }
  async repair(...args: Parameters<Author['repair']>): Promise<FileChange[]> {
    this.repairs += 1;
    return this.offline.repair(...args);
  }
}

/** An author whose code tries to write outside the repository. */
class EscapingAuthor extends FlakyFirstAuthor {
  override async writeCode(...args: Parameters<Author['writeCode']>): Promise<FileChange[]> {
    return [...(await super.writeCode(...args)), { kind: 'write', path: '../../escaped.txt', content: 'out' }];
  }
}

describe('the repair loop', () => {
  it('repairs a failing test and passes on the second attempt, each attempt a commit', async () => {
    const author = new FlakyFirstAuthor();
    const server = await startExecutor({}, { author });
    try {
      const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Habit Tracker for daily streaks', approval_mode: 'auto', auto_deploy: false });
      const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
      expect(author.repairs).toBe(1);
      const attempts = done.steps[4]!.details.attempts as { attempt: number; passed: boolean; stage: string }[];
      expect(attempts.map((attempt) => [attempt.passed, attempt.stage])).toEqual([[false, 'tests'], [true, 'contract']]);
      const messages = (await simpleGit(done.repository_path!).log()).all.map((commit) => commit.message);
      expect(messages).toEqual(expect.arrayContaining(['test: verification attempt 1 failed', 'fix: repair after verification attempt 1', 'test: verification attempt 2 passed']));
    } finally {
      await server.close();
    }
  });

  it('stops at MAX_BUILD_ITERATIONS with the failure, and refuses paths that escape the repository', async () => {
    const server = await startExecutor({}, { author: new EscapingAuthor() });
    try {
      const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Habit Tracker for daily streaks', approval_mode: 'auto' });
      const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
      expect(failed.steps[3]).toMatchObject({ step: 'apprentice_build', status: 'failed', error: { code: 'UNSAFE_PATH' } });
      expect(failed.error).toMatchObject({ code: 'UNSAFE_PATH' });
      const repo = failed.repository_path!;
      expect(existsSync(join(dirname(dirname(repo)), 'escaped.txt'))).toBe(false);
      expect(existsSync(join(dirname(repo), 'escaped.txt'))).toBe(false);
      // Nothing of the bad change set was written: only the packaging commits exist.
      expect(readdirSync(repo).sort()).toEqual(['.git', 'docs']);
    } finally {
      await server.close();
    }
  });

  it('fails the build when verification never passes within the iteration cap', async () => {
    const author = new FlakyFirstAuthor();
    author.repair = async () => [{ kind: 'write', path: 'src/never.js', content: 'export {};\n' }];
    const server = await startExecutor({ MAX_BUILD_ITERATIONS: '2' }, { author });
    try {
      const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Habit Tracker for daily streaks', approval_mode: 'auto' });
      const failed = await waitForStatus(server.baseUrl, buildId, ['failed']);
      expect(failed.steps[4]).toMatchObject({ status: 'failed', error: { code: 'VERIFICATION_FAILED' } });
      expect(failed.error!.message).toMatch(/after 2 attempt/);
      expect(failed.steps[5]!.status).toBe('pending');
    } finally {
      await server.close();
    }
  });
});

describe('a step that fails with a conflict of its own', () => {
  it('fails the build (not stuck in progress) and can be retried', async () => {
    const author = new FlakyFirstAuthor();
    let specCalls = 0;
    author.writeSpec = async (request, options) => {
      specCalls += 1;
      if (specCalls === 1) throw new ConflictError('The registry says this name was taken meanwhile.');
      return new OfflineAuthor().writeSpec(request, options);
    };
    const server = await startExecutor({}, { author });
    try {
      const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Habit Tracker for daily streaks', approval_mode: 'checkpoints' });
      const failed = await waitForStatus(server.baseUrl, buildId, ['failed'], 20_000);
      expect(failed.steps[1]).toMatchObject({ status: 'failed', error: { code: 'CONFLICT' } });
      expect((await api(server.baseUrl, `/executor/builds/${buildId}/retry`, { method: 'POST' })).status).toBe(202);
      await waitForStatus(server.baseUrl, buildId, ['waiting_approval'], 20_000);
      await api(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
    } finally {
      await server.close();
    }
  });
});
