/** BuildNotifications for channel tests: one of each announced event, with every fact set. */
import type { BuildNotification } from '../../src/domain/notification.js';

const BUILD_ID = 'build-13-analytics-engine-20260101-000000';

export function completedNotification(overrides: Partial<BuildNotification> = {}): BuildNotification {
  return {
    deliveryId: `${BUILD_ID}:completed`,
    event: 'completed',
    buildId: BUILD_ID,
    dropletId: 13,
    dropletName: 'analytics-engine',
    buildUrl: `http://executor.example:8400/executor/builds/${BUILD_ID}/status`,
    deploymentUrl: 'http://droplets.example:41001',
    repositoryUrl: 'git@github.com:fleet/analytics-engine.git',
    summary: 'Droplet analytics-engine is live — “ünïcode” included.',
    durationSeconds: 200,
    costUsd: 0.042,
    intentCoverage: { covered: ['droplet metrics'], not_covered: [] },
    at: '2026-01-01T00:10:00.000Z',
    ...overrides,
  };
}

export function failedNotification(overrides: Partial<BuildNotification> = {}): BuildNotification {
  return completedNotification({
    deliveryId: `${BUILD_ID}:failed:41`,
    event: 'failed',
    deploymentUrl: null,
    summary: 'Build of analytics-engine failed in step verifier.',
    failure: { code: 'VERIFICATION_FAILED', message: '3 of 12 tests failed after 10 attempts', step: 'verifier' },
    ...overrides,
  });
}

export function waitingNotification(overrides: Partial<BuildNotification> = {}): BuildNotification {
  return completedNotification({
    deliveryId: `${BUILD_ID}:waiting_approval:7`,
    event: 'waiting_approval',
    deploymentUrl: null,
    summary: 'Build of analytics-engine waits for approval of its SPEC.',
    approval: {
      gate: 'after_spec',
      summary: 'Review SPEC.md: 4 resources, 18 acceptance criteria.',
      links: {
        approveUrl: 'http://executor.example:8400/executor/approvals/approve-token.sig',
        rejectUrl: 'http://executor.example:8400/executor/approvals/reject-token.sig',
        expiresAt: '2026-01-02T00:10:00.000Z',
      },
    },
    ...overrides,
  });
}
