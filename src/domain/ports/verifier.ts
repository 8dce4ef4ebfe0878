/** Verification: install, the droplet's own tests, then the UDC contract check. */
import type { AcceptanceScenario } from '../acceptance.js';
import type { ApiOperation } from '../api-description.js';
import type { DropletIdentity } from '../build.js';
import type { VerificationReport } from '../verification.js';

/** The SPEC's machine-readable proof, as the author wrote it: `docs/openapi.json` and `docs/acceptance.json`. */
export interface SpecProofFiles {
  openapi: string;
  acceptance: string;
}

/** The proof files parsed, for review at the after-SPEC gate. */
export interface SpecProof {
  scenarios: AcceptanceScenario[];
  operations: ApiOperation[];
}

export type SpecProofCheck = { ok: true; proof: SpecProof } | { ok: false; reason: string };

export interface VerifyOptions {
  signal: AbortSignal;
  /** Progress lines worth showing in the event stream ("npm install ok in 2.1s"). */
  onProgress?: (message: string, data?: Record<string, unknown>) => void;
  /**
   * The SPEC's proof, which the droplet is held to; absent for SPECs written before it
   * existed, when the workspace's own `docs/` files (if any) are used.
   */
  proof?: SpecProofFiles;
}

export interface Verifier {
  /** Whether the proof files are valid and agree with each other; the reason names the first problem. */
  checkSpecProof(files: SpecProofFiles): Promise<SpecProofCheck>;
  verify(workdir: string, droplet: DropletIdentity, options: VerifyOptions): Promise<VerificationReport>;
}
