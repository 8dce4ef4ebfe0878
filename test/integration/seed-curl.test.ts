/**
 * The seed README's own client lines, run as written with the real curl binary: they
 * send JSON with `-d` and no content type, which curl labels
 * application/x-www-form-urlencoded.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExecutor, type TestExecutor, waitForStatus } from '../support/executor.js';

const run = promisify(execFile);
let server: TestExecutor;

beforeAll(async () => {
  server = await startExecutor();
});
afterAll(async () => {
  await server?.close();
});

/** A seed line with `http://localhost:8400` pointed at this test's executor; answers the status and the parsed body. */
async function curl(args: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const rewritten = args.map((arg) => arg.replace('http://localhost:8400', server.baseUrl));
  const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', ...rewritten]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: JSON.parse(stdout.slice(0, cut)) as Record<string, unknown> };
}

describe("the seed README's curl lines", () => {
  it('start a build with -d alone, and approve it with -d alone', async () => {
    const started = await curl(['-X', 'POST', 'http://localhost:8400/executor/build-droplet', '-d', '{"architect_intent": "Build Coordinator Droplet to automate Step 3"}']);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const buildId = String(started.body.build_id);
    // The seed's default mode is `final`: the build waits before its deploy.
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);

    const approved = await curl(['-X', 'POST', `http://localhost:8400/executor/builds/${buildId}/approve`, '-d', '{"approved": true}']);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const done = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(done.deployment_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('reads a body sent with no content type at all as JSON', async () => {
    // `-H 'Content-Type:'` makes curl send none; a too-short intent answers 400, which only a parsed body can.
    const parsed = await curl(['-X', 'POST', 'http://localhost:8400/executor/build-droplet', '-H', 'Content-Type:', '-d', '{"architect_intent": "short"}']);
    expect(parsed.status).toBe(400);
    expect(parsed.body).toMatchObject({ error: { code: 'INVALID_INPUT' } });
  });

  it('still refuses a real form, and text, with 415 in the UDC shape', async () => {
    for (const args of [
      ['-X', 'POST', 'http://localhost:8400/executor/build-droplet', '-d', 'architect_intent=Build a bookmark service'],
      ['-X', 'POST', 'http://localhost:8400/executor/build-droplet', '-H', 'Content-Type: text/plain', '-d', '{"architect_intent": "Build a bookmark service"}'],
    ]) {
      const refused = await curl(args);
      expect(refused.status).toBe(415);
      expect(refused.body).toMatchObject({ error: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
    }
  });
});
