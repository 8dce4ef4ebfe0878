/** What is announced when a build ends, and how each delivery went. */
import type { IntentCoverage } from './coverage.js';

export interface BuildNotification {
  /** `<build id>:build.completed`: receivers use it to drop duplicates. */
  deliveryId: string;
  event: 'build.completed';
  buildId: string;
  dropletId: number;
  dropletName: string;
  deploymentUrl: string | null;
  repositoryPath: string | null;
  /** Says what of the intent is not covered, when something is not. */
  summary: string;
  /** What of the intent the droplet serves and does not; null when its author could not tell. */
  intentCoverage: IntentCoverage | null;
  completedAt: string;
}

export interface DeliveryResult {
  channel: string;
  delivered: boolean;
  /** Status code, error message or "already delivered". */
  detail: string;
}

