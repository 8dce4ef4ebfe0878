/** What each step saves for the steps after it (persisted, so resume and retry reuse it). */
import type { IntentCoverage } from './coverage.js';
import type { Deployment } from './deployment.js';
import type { VerificationReport } from './verification.js';

export interface IntentOutput {
  intent: string;
}

export interface SpecOutput {
  spec: string;
  /** `docs/openapi.json` and `docs/acceptance.json`; absent in SPECs saved before they existed. */
  openapi?: string;
  acceptance?: string;
  /** What of the intent the SPEC serves, when its author could tell. */
  coverage?: IntentCoverage;
}

export interface PackageOutput {
  repositoryPath: string;
  head: string | null;
}

export interface CodeOutput {
  files: string[];
  head: string | null;
}

export interface VerifyOutput {
  commit: string;
  attempts: number;
  report: VerificationReport;
}

export type DeployOutput = Deployment;

export interface RegistryOutput {
  dropletId: number;
}

/** Each step's output by name: what `needs` and `uses` hand a later step, typed. */
export interface StepOutputs {
  intent: IntentOutput;
  spec_generation: SpecOutput;
  coordinator_package: PackageOutput;
  apprentice_build: CodeOutput;
  verifier: VerifyOutput;
  deployer: DeployOutput;
  registry_update: RegistryOutput;
  /** The last step hands nothing on. */
  complete: never;
}
