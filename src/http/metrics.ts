/**
 * Request figures for `GET /state`: a rolling one-minute window in one-second
 * buckets, so memory stays constant however busy the executor is.
 */
const WINDOW_SECONDS = 60;

interface Bucket {
  second: number;
  requests: number;
  errors: number;
  totalMs: number;
}

export interface RequestMetricsSnapshot {
  requests_per_minute: number;
  average_response_time_ms: number;
  error_rate_percent: number;
  requests_total: number;
}

export class RequestMetrics {
  private readonly buckets: Bucket[] = Array.from({ length: WINDOW_SECONDS }, () => ({ second: -1, requests: 0, errors: 0, totalMs: 0 }));
  private total = 0;
  private last: Date | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** `failed` means the server failed (5xx); refused client requests are not errors of the service. */
  record(durationMs: number, failed: boolean): void {
    const second = Math.floor(this.now() / 1000);
    const bucket = this.buckets[second % WINDOW_SECONDS]!;
    if (bucket.second !== second) Object.assign(bucket, { second, requests: 0, errors: 0, totalMs: 0 });
    bucket.requests += 1;
    bucket.totalMs += durationMs;
    if (failed) bucket.errors += 1;
    this.total += 1;
    this.last = new Date(this.now());
  }

  lastActivity(): Date | null {
    return this.last;
  }

  snapshot(): RequestMetricsSnapshot {
    const oldest = Math.floor(this.now() / 1000) - WINDOW_SECONDS + 1;
    let requests = 0;
    let errors = 0;
    let totalMs = 0;
    for (const bucket of this.buckets) {
      if (bucket.second < oldest) continue;
      requests += bucket.requests;
      errors += bucket.errors;
      totalMs += bucket.totalMs;
    }
    return {
      requests_per_minute: requests,
      average_response_time_ms: requests === 0 ? 0 : Math.round((totalMs / requests) * 100) / 100,
      error_rate_percent: requests === 0 ? 0 : Math.round((errors / requests) * 10_000) / 100,
      requests_total: this.total,
    };
  }
}
