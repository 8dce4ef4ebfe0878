/** Verification: install, the droplet's own tests, then the UDC contract check. */
import type { DropletIdentity } from '../build.js';
import type { VerificationReport } from '../verification.js';

export interface VerifyOptions {
  signal: AbortSignal;
  /** Progress lines worth showing in the event stream ("npm install ok in 2.1s"). */
  onProgress?: (message: string, data?: Record<string, unknown>) => void;
}

export interface Verifier {
  verify(workdir: string, droplet: DropletIdentity, options: VerifyOptions): Promise<VerificationReport>;
}
