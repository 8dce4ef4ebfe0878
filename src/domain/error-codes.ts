/**
 * Every code a failed step, or a build that ended without completing, can carry: one
 * typed list, so a misspelt code is a compile error and each code's traits are stated
 * once. `retryable` is what the status object's `error.retryable` says: whether
 * `POST …/retry` can help without changing the request or the configuration.
 */

export interface StepErrorTraits {
  /** A retry can end differently: a transient fault, a cap that can be raised, a fresh answer. */
  retryable: boolean;
  /**
   * The failure says nothing against the model's answers already paid for in the step:
   * they are kept for the retry instead of being asked for again.
   */
  keepsAnswers?: true;
  /** The author's answer could not be used: worth asking once more, with the reason. */
  unusableAnswer?: true;
}

const transient = { retryable: true } as const;
const final = { retryable: false } as const;

export const STEP_ERROR_CODES = {
  // Step 1: the intent itself.
  INTENT_TOO_SHORT: final,
  INVALID_DROPLET_NAME: final,
  // A step ran without what an earlier step should have saved: retry from that step.
  MISSING_PRIOR_OUTPUT: transient,
  // What builds stored before MISSING_PRIOR_OUTPUT said instead (no longer raised).
  MISSING_SPEC: transient,
  NOT_VERIFIED: transient,
  // The author's answer (a fresh answer may differ).
  EMPTY_SPEC: transient,
  NO_CODE: transient,
  MODEL_NO_SPEC: transient,
  // The SPEC's docs/openapi.json or docs/acceptance.json, still invalid after one send-back.
  INVALID_SPEC_PROOF: transient,
  // An auto-mode SPEC that serves none of the intent: nobody would review what it ships.
  INTENT_NOT_COVERED: final,
  MODEL_OUTPUT_INVALID: { retryable: true, unusableAnswer: true },
  MODEL_EMPTY_ANSWER: { retryable: true, unusableAnswer: true },
  MODEL_OUTPUT_TRUNCATED: transient,
  MODEL_REFUSED: final,
  MODEL_CONTEXT_EXCEEDED: final,
  UNSAFE_PATH: transient,
  SECRET_DETECTED: transient,
  FILE_LIMIT: transient,
  // The model API and the budget.
  MODEL_UNAVAILABLE: { retryable: true, keepsAnswers: true },
  MODEL_REQUEST_REJECTED: { retryable: false, keepsAnswers: true },
  BUDGET_EXHAUSTED: { retryable: true, keepsAnswers: true },
  // The droplet's repository.
  UNSAFE_REPOSITORY: final,
  COMMIT_FAILED: transient,
  NOTHING_TO_RESTORE: final,
  NOTHING_TO_TAG: final,
  INVALID_TAG: final,
  TAG_CONFLICT: final,
  // Verification.
  VERIFICATION_FAILED: transient,
  REPAIR_NOT_CONVERGING: transient,
  // Deploy.
  DEPLOY_BAD_MANIFEST: final,
  DEPLOY_BAD_ENTRY: final,
  DEPLOY_INVALID_RELEASE: final,
  DEPLOY_SPAWN_FAILED: transient,
  DEPLOY_UNHEALTHY: transient,
  DEPLOY_SWITCH_FAILED: transient,
  DEPLOY_STOP_FAILED: transient,
  // Fleet deploys: the host could not be reached or trusted, a command on it failed, another deploy holds it.
  DEPLOY_HOST_UNREACHABLE: transient,
  DEPLOY_HOST_KEY_REFUSED: final,
  DEPLOY_HOST_COMMAND_FAILED: transient,
  DEPLOY_INSTALL_FAILED: transient,
  DEPLOY_LOCKED: transient,
  DEPLOY_UNKNOWN_HOST: final,
  DEPLOY_SUPERVISOR_FAILED: transient,
  DEPLOY_RUNNER_IS_ROOT: final,
  DEPLOY_RUNNER_UNSUPPORTED: final,
  DEPLOY_SANDBOX_UNAVAILABLE: final,
  // Publishing the repository (GIT_REMOTE_URL_TEMPLATE, GitHub): a push or the GitHub API failed.
  PUBLISH_FAILED: transient,
  // The registry refused the registration (a name or id clash), or did not answer.
  CONFLICT: final,
  UNAVAILABLE: transient,
  DROPLET_NAME_TAKEN: final,
  DROPLET_ID_TAKEN: final,
  // The fleet registry holds the name for another droplet (a live entry).
  REGISTRY_NAME_TAKEN: final,
  // The fleet registry at REGISTRY_URL answered 4xx (a bad token, a refused registration), or
  // still answered 5xx/429/timeouts after REGISTRY_MAX_ATTEMPTS.
  REGISTRY_REFUSED: final,
  REGISTRY_UNAVAILABLE: transient,
  // Something the step did not expect, and the runner itself.
  STEP_CRASHED: transient,
  RUNNER_CRASHED: transient,
} as const satisfies Record<string, StepErrorTraits>;

export type StepErrorCode = keyof typeof STEP_ERROR_CODES;

/** How a build that did not complete may also end: by request, not by a step's failure. */
export const BUILD_END_CODES = {
  CANCELLED: transient,
  REJECTED: transient,
} as const satisfies Record<string, StepErrorTraits>;

export type BuildEndCode = keyof typeof BUILD_END_CODES;

const ALL_TRAITS: Readonly<Record<string, StepErrorTraits>> = { ...STEP_ERROR_CODES, ...BUILD_END_CODES };

export function isStepErrorCode(code: string): code is StepErrorCode {
  return Object.hasOwn(STEP_ERROR_CODES, code);
}

/** Traits of a code; an unknown one (stored by an older version) is treated as final. */
export function traitsOf(code: string): StepErrorTraits {
  return ALL_TRAITS[code] ?? final;
}
