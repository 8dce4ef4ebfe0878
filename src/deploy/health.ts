/** The health gate: a droplet is live when `GET /health` answers `status: healthy`. */
import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 100;
const REQUEST_TIMEOUT_MS = 2_000;

/** One probe; any failure (refused, timeout, bad JSON, other status) is "not healthy". */
export async function isHealthy(baseUrl: string, signal?: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): Promise<boolean> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(new URL('/health', baseUrl), {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: { accept: 'application/json' },
    });
    if (!response.ok) {
      await response.body?.cancel();
      return false;
    }
    const body = (await response.json()) as { status?: unknown } | null;
    return body?.status === 'healthy';
  } catch {
    return false;
  }
}

export type HealthOutcome = 'healthy' | 'timeout' | 'exited' | 'aborted';

export interface HealthGate {
  baseUrl: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** Checked between probes: a process that died will never answer. */
  isRunning: () => boolean;
}

export async function waitUntilHealthy(gate: HealthGate): Promise<HealthOutcome> {
  const deadline = Date.now() + gate.timeoutMs;
  for (;;) {
    if (gate.signal.aborted) return 'aborted';
    if (!gate.isRunning()) return 'exited';
    const remaining = deadline - Date.now();
    if (remaining <= 0) return 'timeout';
    if (await isHealthy(gate.baseUrl, gate.signal, Math.min(REQUEST_TIMEOUT_MS, remaining))) return 'healthy';
    try {
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())), undefined, { signal: gate.signal });
    } catch {
      return 'aborted';
    }
  }
}
