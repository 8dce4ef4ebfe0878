/**
 * How healthy the executor is, and why not: UDC `healthy`, `degraded` (serving, but
 * something is wrong that a person should fix) or `unhealthy` (the store cannot be asked).
 * Each problem says what is wrong and how to fix it.
 */
import type { ExecutorInfo } from './deps.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthProblem {
  component: 'store' | 'sandbox';
  reason: string;
  fix: string;
  /** Builds are refused until it is fixed (else they run, less safely). */
  builds_refused: boolean;
}

export interface HealthAssessment {
  status: HealthStatus;
  problems: HealthProblem[];
}

const STORE_FIX = 'check that DATA_DIR is on a writable, non-full disk and that no other process holds executor.db, then restart';

function sandboxProblems(detail: ExecutorInfo['sandboxDetail']): HealthProblem[] {
  const fix = detail.fix ?? 'install bubblewrap (apt-get install bubblewrap), or set SANDBOX=off knowingly';
  // SANDBOX=required without bubblewrap: builds are refused.
  if (detail.unavailable_reason) return [{ component: 'sandbox', reason: detail.unavailable_reason, fix, builds_refused: true }];
  // SANDBOX=auto without bubblewrap: builds run, but generated code is not isolated from the host.
  if (detail.fallback_reason) return [{ component: 'sandbox', reason: detail.fallback_reason, fix, builds_refused: false }];
  return [];
}

export async function assessHealth(info: ExecutorInfo): Promise<HealthAssessment> {
  let storeAnswers: boolean;
  try {
    storeAnswers = await info.storeHealthy();
  } catch {
    return { status: 'unhealthy', problems: [{ component: 'store', reason: 'Asking the SQLite store failed.', fix: STORE_FIX, builds_refused: true }] };
  }
  const problems = [
    ...(storeAnswers ? [] : [{ component: 'store' as const, reason: 'The SQLite store does not answer.', fix: STORE_FIX, builds_refused: true }]),
    ...sandboxProblems(info.sandboxDetail),
  ];
  return { status: problems.length === 0 ? 'healthy' : 'degraded', problems };
}
