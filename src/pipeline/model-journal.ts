/**
 * The ModelCallJournal a step hands its author: every paid call recorded against
 * the build and step (and shown as a progress event), the cost cap enforced before
 * each attempt, and answers kept so a resumed step does not pay for them twice.
 * Answers are held back until the step settles: a step that failed because of what
 * the model wrote (an unsafe path, a missing SPEC) must not have it replayed.
 */
import type { ModelCallJournal } from '../domain/ports/author.js';
import type { ModelCallRecord } from '../domain/usage.js';
import { BudgetExhaustedError } from '../domain/errors.js';
import type { ModelCallStore } from '../store/model-calls.js';

export interface ModelJournalDeps {
  calls: ModelCallStore;
  buildId: string;
  stepNumber: number;
  /** The cap in force (the lower of the build's and the executor's), null for none. */
  capUsd: number | null;
  /** Journals the call (the row and its event, in one transaction), even after a cancel. */
  recordCall(call: ModelCallRecord, message: string, data: Record<string, unknown>): void;
}

export interface StepModelJournal extends ModelCallJournal {
  /** Keeps the step's answers for a later run of it, or drops them. */
  settle(keep: boolean): void;
}

/** Failures that say nothing against the model's answers: those stay saved for the retry. */
export const ANSWERS_KEPT_AFTER = new Set(['MODEL_UNAVAILABLE', 'MODEL_REQUEST_REJECTED', 'BUDGET_EXHAUSTED']);

export function createModelJournal(deps: ModelJournalDeps): StepModelJournal {
  const { calls, buildId, stepNumber } = deps;
  const pending = new Map<string, unknown>();
  return {
    savedResult: (key) => pending.get(key) ?? calls.savedResult(buildId, key),
    saveResult: (key, result) => void pending.set(key, result),
    settle(keep) {
      if (keep) for (const [key, result] of pending) calls.saveResult(buildId, stepNumber, key, result);
      pending.clear();
    },
    reserve(worstCaseUsd, purpose) {
      if (deps.capUsd === null) return;
      const spent = calls.usageOf(buildId)?.cost_usd ?? 0;
      if (spent + worstCaseUsd > deps.capUsd) throw new BudgetExhaustedError(spent, deps.capUsd, worstCaseUsd, purpose);
    },
    record(call) {
      const { usage } = call;
      const cached = usage.cache_read_tokens > 0 ? ` (${usage.cache_read_tokens} from cache)` : '';
      const tokensIn = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens;
      deps.recordCall(call, `model call for ${call.purpose}: ${tokensIn} tokens in${cached}, ${usage.output_tokens} out, $${usage.cost_usd.toFixed(4)}`, {
        model_call: { purpose: call.purpose, model: call.model, stop_reason: call.stopReason, retries: call.retries, duration_ms: call.durationMs, ...usage },
      });
    },
  };
}
