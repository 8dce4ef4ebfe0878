/** Verification: install, the droplet's own tests, then the UDC contract check. */
import type { ScenarioResult } from './acceptance.js';

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

/** A repository file and line a failure points at (a stack frame, a test's location). */
export interface FileLine {
  /** Repository-relative, `/`-separated. */
  path: string;
  line: number;
}

/** One failing test as the runner's structured report (node:test) describes it. */
export interface TestFailure {
  /** The test's name as the runner reports it (a file that failed to load is named by its path). */
  name: string;
  /** The repository file that declares the test, when the runner said which. */
  file: string | null;
  line: number | null;
  /** What failed: the assertion's message or what was thrown, capped. */
  message: string;
  /** For assertions: what was expected and what came, as the runner printed them. */
  expected?: string;
  actual?: string;
  operator?: string;
  /** Repository files in the error's stack, innermost first (test files included; node_modules never). */
  stack: FileLine[];
}

/** The droplet's own test run. */
export interface TestRunSummary extends CommandSummary {
  failingTests: string[];
  /**
   * Every failing test with its assertion and stack, when the runner wrote a structured
   * report (node:test); absent when only its text output could be read.
   */
  failures?: TestFailure[];
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
  /** Absent when the dependencies came from the store and nothing was installed. */
  install?: CommandSummary;
  /** The dependency store entry the droplet ran with, and whether it was there before this attempt. */
  dependencies?: { key: string; reused: boolean };
  tests?: TestRunSummary;
  contract?: ContractCheck[];
  /** Each acceptance scenario of the SPEC: passed, or the failing step, what it expected and got. */
  acceptance?: ScenarioResult[];
  /** Wall time spent inside child processes (install, tests, droplet start). */
  childProcessMs: number;
  /** What the running droplet said of itself during the contract check, for the registry. */
  observed?: { version?: string; capabilities?: string[] };
}

