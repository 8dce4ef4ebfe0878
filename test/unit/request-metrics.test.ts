/** /state's request figures: errors are 5xx answers (the service failed), 4xx are counted apart. */
import { describe, expect, it } from 'vitest';
import { RequestMetrics } from '../../src/http/metrics.js';
import { startsTestApps } from '../support/http-app.js';

const start = startsTestApps();

describe('request metrics', () => {
  it('counts 5xx as errors and 4xx as client errors over a one-minute window', () => {
    let now = 1_000_000;
    const metrics = new RequestMetrics(() => now);
    for (const status of [200, 202, 401, 404, 500, 503, 200, 200]) metrics.record(10, status);
    expect(metrics.snapshot()).toEqual({
      requests_per_minute: 8,
      average_response_time_ms: 10,
      error_rate_percent: 25,
      client_error_rate_percent: 25,
      requests_total: 8,
    });
    now += 30_000;
    metrics.record(30, 200);
    expect(metrics.snapshot()).toMatchObject({ requests_per_minute: 9, error_rate_percent: 22.22, client_error_rate_percent: 22.22 });
    now += 45_000;
    // The first eight left the window; the total keeps them.
    expect(metrics.snapshot()).toEqual({ requests_per_minute: 1, average_response_time_ms: 30, error_rate_percent: 0, client_error_rate_percent: 0, requests_total: 9 });
  });

  it('/state reports refused requests as client errors, not as errors of the executor', async () => {
    const { app } = await start();
    await app.inject({ method: 'GET', url: '/capabilities' });
    await app.inject({ method: 'GET', url: '/no/such/route' });
    await app.inject({ method: 'GET', url: '/executor/builds?limit=0' });
    const state = (await app.inject({ method: 'GET', url: '/state' })).json<{ metrics: Record<string, number> }>();
    expect(state.metrics).toMatchObject({ requests_per_minute: 3, error_rate_percent: 0, client_error_rate_percent: 66.67 });
  });
});
