/**
 * The one place a channel's DeliveryAttempt is formed. Its detail may carry remote text
 * (an error message from a socket, a code from an SMTP library): it lands in events,
 * step details, the outbox and logs, so control characters (terminal escapes, forged
 * log lines) are dropped and its length is bounded.
 */
import type { DeliveryAttempt } from '../domain/notification.js';

/** A detail is a status and a reason, never a body. */
export const MAX_DETAIL_LENGTH = 300;

// C0 and C1 controls, DEL, and the bidirectional overrides that reorder what is shown.
// eslint-disable-next-line no-control-regex -- control characters are what is removed
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** `text` as one printable line of at most MAX_DETAIL_LENGTH characters. */
export function printableDetail(text: string): string {
  const line = text.slice(0, MAX_DETAIL_LENGTH * 2).replace(UNPRINTABLE, ' ').replace(/ {2,}/g, ' ').trim();
  return line.length <= MAX_DETAIL_LENGTH ? line : `${line.slice(0, MAX_DETAIL_LENGTH - 1)}…`;
}

export function attempt(outcome: DeliveryAttempt['outcome'], detail: string): DeliveryAttempt {
  return { outcome, detail: printableDetail(detail) };
}
