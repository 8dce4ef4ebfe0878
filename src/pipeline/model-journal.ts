/**
 * The ModelCallJournal a step hands its author: every paid call recorded against
 * the build and step (and shown as a progress event), the cost cap enforced before
 * each attempt, and answers kept so a resumed step does not pay for them twice.
 * Answers are held back until the step settles: a step that failed because of what
 * the model wrote (an unsafe path, a missing SPEC) must not have it replayed.
 */
import { BudgetExhaustedError } from '../domain/errors.js';
import type { ModelCallJournal } from '../domain/ports/author.js';
import type { ModelCallLedger } from '../domain/ports/build-store.js';
import type { ModelCallRecord } from '../domain/usage.js';

export interface ModelJournalDeps {
  ledger: ModelCallLedger;
  buildId: string;
  stepNumber: number;
  /** The cap in force (the lower of the build's and the executor's), null for none. */
  capUsd: number | null;
  /** Journals the call (the row and its event, together), even after a cancel; resolves once written. */
  recordCall(call: ModelCallRecord, message: string, data: Record<string, unknown>): Promise<void>;
}

export interface StepModelJournal extends ModelCallJournal {
  /** Keeps the step's answers for a later run of it, or drops them. */
  settle(keep: boolean): Promise<void>;
}

export function createModelJournal(deps: ModelJournalDeps): StepModelJournal {
  const { ledger, buildId, stepNumber } = deps;
  const pending = new Map<string, unknown>();
  return {
    savedResult: async (key) => pending.get(key) ?? ledger.savedResult(buildId, key),
    saveResult: (key, result) => void pending.set(key, result),
    async settle(keep) {
      if (keep && pending.size > 0) await ledger.saveResults(buildId, stepNumber, new Map(pending));
      pending.clear();
    },
    async reserve(worstCaseUsd, purpose) {
      if (deps.capUsd === null) return;
      const spent = (await ledger.usageOf(buildId))?.cost_usd ?? 0;
      if (spent + worstCaseUsd > deps.capUsd) throw new BudgetExhaustedError(spent, deps.capUsd, worstCaseUsd, purpose);
    },
    async record(call) {
      const { usage } = call;
      const cached = usage.cache_read_tokens > 0 ? ` (${usage.cache_read_tokens} from cache)` : '';
      const tokensIn = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens;
      await deps.recordCall(call, `model call for ${call.purpose}: ${tokensIn} tokens in${cached}, ${usage.output_tokens} out, $${usage.cost_usd.toFixed(4)}`, {
        model_call: { purpose: call.purpose, model: call.model, stop_reason: call.stopReason, retries: call.retries, duration_ms: call.durationMs, ...usage },
      });
    },
  };
}
