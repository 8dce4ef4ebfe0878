/** Verification: install, the droplet's own tests, then the UDC contract check. */
export interface CommandSummary {
  /** The command as a human would type it, e.g. `npm test`. */
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  truncated: boolean;
  durationMs: number;
  /** The end of the combined output, capped: what a person (or a model) needs to see. */
  outputTail: string;
}

export interface ContractCheck {
  /** Stable name, e.g. `GET /health shape`, `POST /message refuses missing credentials`. */
  name: string;
  passed: boolean;
  expected: string;
  got: string;
}

export type VerificationStage = 'install' | 'tests' | 'contract';

export interface VerificationReport {
  passed: boolean;
  /** Where it stopped: the failing stage, or `contract` when everything passed. */
  stage: VerificationStage;
  /** One sentence: what failed, or that all passed. */
  summary: string;
  install?: CommandSummary;
  tests?: CommandSummary & { failingTests: string[] };
  contract?: ContractCheck[];
  /** Wall time spent inside child processes (install, tests, droplet start). */
  childProcessMs: number;
  /** What the running droplet said of itself during the contract check, for the registry. */
  observed?: { version?: string; capabilities?: string[] };
}

