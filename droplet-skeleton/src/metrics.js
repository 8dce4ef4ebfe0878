// @ts-check
// Request figures for GET /state, measured over a sliding one-minute window.
// Errors are what UDC.md calls them: responses with a status of 500 or more (the
// droplet failed). Refused requests (4xx) are counted apart, as client errors.

const WINDOW_MS = 60000;
// Bounds memory under heavy load; beyond it the oldest samples are dropped.
const MAX_SAMPLES = 100000;

/** @param {number} value */
function round2(value) {
  return Math.round(value * 100) / 100;
}

export class RequestMetrics {
  /** @type {{ at: number, durationMs: number, failed: boolean, refused: boolean }[]} */
  #samples = [];
  #lastActivity;
  #now;

  constructor(now = () => Date.now()) {
    this.#now = now;
    this.#lastActivity = new Date(now()).toISOString();
  }

  /**
   * One finished request: its status code and how long it took.
   * @param {number} statusCode
   * @param {number} durationMs
   */
  record(statusCode, durationMs) {
    const at = this.#now();
    this.#samples.push({ at, durationMs, failed: statusCode >= 500, refused: statusCode >= 400 && statusCode < 500 });
    if (this.#samples.length > MAX_SAMPLES) this.#samples.splice(0, this.#samples.length - MAX_SAMPLES);
    this.#lastActivity = new Date(at).toISOString();
  }

  get lastActivity() {
    return this.#lastActivity;
  }

  /** `error_rate_percent`: responses with status >= 500; `client_error_rate_percent`: 4xx. */
  snapshot() {
    const since = this.#now() - WINDOW_MS;
    const firstKept = this.#samples.findIndex((sample) => sample.at >= since);
    this.#samples.splice(0, firstKept === -1 ? this.#samples.length : firstKept);
    const count = this.#samples.length;
    const totalMs = this.#samples.reduce((sum, sample) => sum + sample.durationMs, 0);
    const failed = this.#samples.filter((sample) => sample.failed).length;
    const refused = this.#samples.filter((sample) => sample.refused).length;
    return {
      requests_per_minute: count,
      average_response_time_ms: count === 0 ? 0 : round2(totalMs / count),
      error_rate_percent: count === 0 ? 0 : round2((failed * 100) / count),
      client_error_rate_percent: count === 0 ? 0 : round2((refused * 100) / count),
    };
  }
}
