/**
 * Request figures for `GET /state`: a rolling one-minute window in one-second
 * buckets, so memory stays constant however busy the executor is.
 *
 * What counts as an error (the same in generated droplets, see docs/architecture.md
 * and foundation-files/UDC.md): `error_rate_percent` is the share of responses with
 * a status of 500 or more, the service failing; refused requests (4xx: bad input, no
 * token, unknown path) are the client's mistake and have their own
 * `client_error_rate_percent`.
 */
const WINDOW_SECONDS = 60;

interface Bucket {
  second: number;
  requests: number;
  errors: number;
  clientErrors: number;
  totalMs: number;
}

export interface RequestMetricsSnapshot {
  requests_per_minute: number;
  average_response_time_ms: number;
  /** Responses with status >= 500, percent of the minute's requests. */
  error_rate_percent: number;
  /** Responses with a 4xx status, percent of the minute's requests. */
  client_error_rate_percent: number;
  requests_total: number;
}

const EMPTY = { second: -1, requests: 0, errors: 0, clientErrors: 0, totalMs: 0 };

function percent(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 100;
}

export class RequestMetrics {
  private readonly buckets: Bucket[] = Array.from({ length: WINDOW_SECONDS }, () => ({ ...EMPTY }));
  private total = 0;
  private last: Date | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** One answered request: how long it took and the status it got. */
  record(durationMs: number, statusCode: number): void {
    const second = Math.floor(this.now() / 1000);
    const bucket = this.buckets[second % WINDOW_SECONDS]!;
    if (bucket.second !== second) Object.assign(bucket, { ...EMPTY, second });
    bucket.requests += 1;
    bucket.totalMs += durationMs;
    if (statusCode >= 500) bucket.errors += 1;
    else if (statusCode >= 400) bucket.clientErrors += 1;
    this.total += 1;
    this.last = new Date(this.now());
  }

  lastActivity(): Date | null {
    return this.last;
  }

  snapshot(): RequestMetricsSnapshot {
    const oldest = Math.floor(this.now() / 1000) - WINDOW_SECONDS + 1;
    const sum = { requests: 0, errors: 0, clientErrors: 0, totalMs: 0 };
    for (const bucket of this.buckets) {
      if (bucket.second < oldest) continue;
      sum.requests += bucket.requests;
      sum.errors += bucket.errors;
      sum.clientErrors += bucket.clientErrors;
      sum.totalMs += bucket.totalMs;
    }
    return {
      requests_per_minute: sum.requests,
      average_response_time_ms: sum.requests === 0 ? 0 : Math.round((sum.totalMs / sum.requests) * 100) / 100,
      error_rate_percent: percent(sum.errors, sum.requests),
      client_error_rate_percent: percent(sum.clientErrors, sum.requests),
      requests_total: this.total,
    };
  }
}
