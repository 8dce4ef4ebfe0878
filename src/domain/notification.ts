/** What is announced about a build, and how each delivery attempt went. */
import type { IntentCoverage } from './coverage.js';
import type { ApprovalLinks } from './ports/approval-links.js';

/** What a channel may be configured to announce. */
export type AnnouncedEvent = 'completed' | 'failed' | 'waiting_approval';

/** Every announced event, in order (the `log` channel announces all of them). */
export const ANNOUNCED_EVENTS: readonly AnnouncedEvent[] = ['completed', 'failed', 'waiting_approval'];

export interface BuildNotification {
  /**
   * Stable per announcement: `<build id>:completed`, `<build id>:failed:<seq>`,
   * `<build id>:waiting_approval:<seq>`. Receivers use it to drop duplicates.
   */
  deliveryId: string;
  event: AnnouncedEvent;
  buildId: string;
  dropletId: number;
  dropletName: string;
  /** The build's status URL on the executor. */
  buildUrl: string;
  deploymentUrl: string | null;
  repositoryUrl: string | null;
  /** One or two human sentences: what happened (and what of the intent is not covered). */
  summary: string;
  /** Since the build started, when it did. */
  durationSeconds: number | null;
  costUsd: number | null;
  intentCoverage: IntentCoverage | null;
  /** `failed`: why. */
  failure?: { code: string; message: string; step: string | null };
  /**
   * `waiting_approval`: what to review, and signed one-click links. `requestedAt`: when the
   * wait began (its pending approval's `requested_at`): links are signed for that wait
   * only, and the request is not sent once the build is past it.
   */
  approval?: { gate: string; summary: string; requestedAt?: string; links: ApprovalLinks | null };
  at: string;
}

/** One try at one channel. */
export interface DeliveryAttempt {
  /** `retry`: a later attempt may succeed (5xx, 429, timeout, network); `rejected`: it will not (4xx, refused target). */
  outcome: 'delivered' | 'retry' | 'rejected';
  /** Status code, error message; never a secret or a full target URL. */
  detail: string;
}

/** Where a delivery stands, as step 8's details and the events show it. */
export interface DeliveryResult {
  channel: string;
  deliveryId: string;
  status: 'delivered' | 'pending' | 'failed';
  attempts: number;
  detail: string;
}
