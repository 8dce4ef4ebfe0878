/**
 * The ModelCallJournal a step hands its author: every paid call recorded against
 * the build and step (and shown as a progress event), the cost cap enforced before
 * a call is made, and results saved so a retried build does not pay twice.
 */
import type { ModelCallJournal } from '../authors/types.js';
import { BudgetExhaustedError } from '../errors.js';
import type { ModelCallStore } from '../store/model-calls.js';

export interface ModelJournalDeps {
  calls: ModelCallStore;
  buildId: string;
  stepNumber: number;
  /** The cap in force (the lower of the build's and the executor's), null for none. */
  capUsd: number | null;
  progress(message: string, data: Record<string, unknown>): void;
}

/** The lower of two optional caps. */
export function effectiveCap(executorCap: number | null | undefined, buildCap: number | null | undefined): number | null {
  const caps = [executorCap, buildCap].filter((cap): cap is number => typeof cap === 'number');
  return caps.length > 0 ? Math.min(...caps) : null;
}

export function createModelJournal(deps: ModelJournalDeps): ModelCallJournal {
  const { calls, buildId, stepNumber } = deps;
  return {
    savedResult: (key) => calls.savedResult(buildId, key),
    saveResult: (key, result) => calls.saveResult(buildId, key, result),
    reserve(worstCaseUsd, purpose) {
      if (deps.capUsd === null) return;
      const spent = calls.usageOf(buildId)?.cost_usd ?? 0;
      if (spent + worstCaseUsd > deps.capUsd) throw new BudgetExhaustedError(spent, deps.capUsd, worstCaseUsd, purpose);
    },
    record(call) {
      calls.record(buildId, stepNumber, call);
      const { usage } = call;
      const cached = usage.cache_read_tokens > 0 ? ` (${usage.cache_read_tokens} from cache)` : '';
      deps.progress(`model call for ${call.purpose}: ${usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens} tokens in${cached}, ${usage.output_tokens} out, $${usage.cost_usd.toFixed(4)}`, {
        model_call: { purpose: call.purpose, model: call.model, stop_reason: call.stopReason, retries: call.retries, duration_ms: call.durationMs, ...usage },
      });
    },
  };
}
