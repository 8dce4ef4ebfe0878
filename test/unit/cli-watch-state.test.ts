/** The CLI's watch state, folded from stream messages, and the lines it prints from it. */
import { describe, expect, it } from 'vitest';
import type { BuildEvent, EventDraft } from '../../src/domain/events.js';
import { finalReport, formatDuration, verifierNote } from '../../src/cli/format.js';
import { applyMessage, costOf, initialState, isTerminal, type WatchState } from '../../src/cli/watch-state.js';
import { apiErrorFrom, settingsFromEnv } from '../../src/cli/client.js';

const BUILD = 'build-1-inventory-tracker-20261202-120000';
let seq = 0;
const event = (draft: EventDraft): BuildEvent => ({ ...draft, seq: ++seq, build_id: BUILD, at: '2026-12-02T12:00:00.000Z' });
const fold = (drafts: EventDraft[]): WatchState => drafts.map(event).reduce(applyMessage, initialState(BUILD));
const verifier = { step: 'verifier', step_number: 5 } as const;

describe('CLI watch state', () => {
  it('follows the verifier loop: attempts, repairs, acceptance and model cost', () => {
    const state = fold([
      { type: 'build.queued', data: { droplet_id: 1, droplet_name: 'inventory-tracker', approval_mode: 'final' } },
      { type: 'step.started', data: { ...verifier, name: 'Verifier' } },
      { type: 'step.progress', data: { ...verifier, message: 'verification attempt 1 of 3', attempt: 1 } },
      { type: 'step.progress', data: { ...verifier, message: '2 tests failed', attempt: 1, passed: false } },
      { type: 'step.progress', data: { ...verifier, message: 'model call for repair: 100 tokens in, 50 out, $0.0125', model_call: { cost_usd: 0.0125 } } },
      { type: 'step.progress', data: { ...verifier, message: 'repair after attempt 1 changed 2 file(s)', attempt: 1 } },
      { type: 'step.progress', data: { ...verifier, message: 'all passed', attempt: 2, passed: true, acceptance: [{ name: 'keeps items', passed: true }, { name: 'refuses strangers', passed: false }] } },
      { type: 'step.completed', data: { ...verifier, duration_seconds: 75.4, details: {} } },
    ]);
    expect(state.approvalMode).toBe('final');
    expect(state.steps[4]).toMatchObject({ status: 'completed', durationSeconds: 75.4, latestLine: 'all passed' });
    expect(state.verifier).toEqual({ attempt: 2, repairs: 1, lastPassed: true, acceptance: [{ name: 'keeps items', passed: true }, { name: 'refuses strangers', passed: false }] });
    expect(verifierNote(state.verifier)).toBe('attempt 2, 1 repair, acceptance 1/2 passed');
    expect(costOf(state)).toBeCloseTo(0.0125);
    expect(formatDuration(75.4)).toBe('1m 15s');
  });

  it('records the gate, its approval, and a cancel that stops the running step', () => {
    const waiting = fold([
      { type: 'step.started', data: { step: 'intent', step_number: 1, name: 'Intent' } },
      { type: 'step.completed', data: { step: 'intent', step_number: 1, duration_seconds: 0.1, details: {} } },
      { type: 'build.waiting_approval', data: { gate: 'after_spec', step_number: 3, summary: 'Review the SPEC', requested_at: '2026-12-02T12:00:01.000Z' } },
    ]);
    expect(waiting.status).toBe('waiting_approval');
    expect(waiting.pendingApproval).toMatchObject({ gate: 'after_spec', summary: 'Review the SPEC' });

    const cancelled = [
      event({ type: 'build.approved', data: { gate: 'after_spec', step_number: 3, feedback: null } }),
      event({ type: 'step.started', data: { step: 'coordinator_package', step_number: 3, name: 'Coordinator package' } }),
      event({ type: 'build.cancelled', data: { reason: 'cancelled by request' } }),
    ].reduce(applyMessage, waiting);
    expect(cancelled.approvals).toEqual([{ gate: 'after_spec', stepNumber: 3 }]);
    expect(cancelled.steps.map((step) => step.status)).toEqual(['completed', 'pending', 'cancelled', 'pending', 'pending', 'pending', 'pending', 'pending']);
    expect(isTerminal(cancelled)).toBe(true);
    expect(cancelled.error).toEqual({ code: 'CANCELLED', message: 'cancelled by request' });
    expect(finalReport(cancelled)).toContain(`build ${BUILD}: cancelled, cost $0.0000`);
  });
});

describe('CLI client', () => {
  it('reads the UDC error shape, and anything else by its status', () => {
    expect(apiErrorFrom(404, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No build\n x.', details: {} } }))).toMatchObject({ code: 'NOT_FOUND', message: 'No build x.', status: 404, exitCode: 3 });
    expect(apiErrorFrom(502, '<html>Bad gateway</html>')).toMatchObject({ code: 'HTTP_502', message: '<html>Bad gateway</html>' });
  });

  it('takes an empty EXECUTOR_URL or EXECUTOR_TOKEN as unset', () => {
    expect(settingsFromEnv({ EXECUTOR_URL: '', EXECUTOR_TOKEN: ' ' })).toEqual({ baseUrl: 'http://127.0.0.1:8400', token: undefined });
    expect(settingsFromEnv({ EXECUTOR_URL: 'http://10.0.0.5:8400/', EXECUTOR_TOKEN: 't' })).toEqual({ baseUrl: 'http://10.0.0.5:8400', token: 't' });
  });
});
