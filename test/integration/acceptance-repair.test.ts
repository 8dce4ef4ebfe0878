/**
 * A droplet that passes its own tests but does not serve what its SPEC promised never
 * goes green: through the real API, the offline droplet with its PUT route left out (and
 * the tests that would notice trimmed away) fails its SPEC's acceptance scenario, named,
 * and the repair that follows restores the route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerificationReport } from '../../src/domain/verification.js';
import { startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';
import { RouteDroppingAuthor } from '../support/route-dropping-author.js';

let server: TestExecutor;
beforeAll(async () => {
  server = await startExecutor({ DEPLOY_TARGET: 'none' }, { author: new RouteDroppingAuthor() });
});
afterAll(async () => {
  await server?.close();
});

describe('a droplet that lacks a route its SPEC names', () => {
  it('fails the acceptance scenario that needs it, named, and is repaired on attempt 2', async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build a bookmark service that stores links with tags', approval_mode: 'auto' });
    const done = await waitForStatus(server.baseUrl, buildId, ['completed', 'failed'], 240_000);
    expect(done.status).toBe('completed');
    const attempts = done.steps[4]!.details.attempts as { attempt: number; passed: boolean; stage: string; summary: string }[];
    expect(attempts.map((attempt) => [attempt.attempt, attempt.passed, attempt.stage]), JSON.stringify(attempts, null, 1)).toEqual([[1, false, 'contract'], [2, true, 'contract']]);
    // Its own tests passed on attempt 1: it is the SPEC's scenario that caught it.
    expect(attempts[0]!.summary).toMatch(/^Contract check failed: .*acceptance: a bookmark keeps what it was given, changes and goes away/);
    const events = (await (await fetch(`${server.baseUrl}/executor/builds/${buildId}/events?after=0`)).json()) as { type: string; data: Record<string, unknown> }[];
    const firstReport = events.find((event) => event.type === 'step.progress' && event.data.attempt === 1 && event.data.passed === false)!.data;
    expect(firstReport.failing_tests).toEqual([]);
    const acceptance = firstReport.acceptance as NonNullable<VerificationReport['acceptance']>;
    const failed = acceptance.filter((scenario) => !scenario.passed);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0]).toMatchObject({ failedStep: expect.any(Number) as unknown, expected: expect.stringMatching(/^PUT \/[a-z-]+\/[^ ]+ answers 200/) as unknown, got: expect.stringMatching(/^404: /) as unknown });
    const report = done.steps[4]!.details.report as VerificationReport;
    expect(report.acceptance?.every((scenario) => scenario.passed)).toBe(true);
  }, 300_000);
});
