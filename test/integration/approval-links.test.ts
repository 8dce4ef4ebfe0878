/**
 * Approval by signed one-click link, on real builds waiting at their gates, with
 * API_TOKEN set and no token sent to the approval pages: the GET page changes
 * nothing, its form's POST decides once; replayed, altered, expired and wrong-gate
 * links are refused. The key is the one the executor made in DATA_DIR, and it is among
 * the secrets the executor redacts.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_LINK_KEY_FILE, approvalLinkKeyFile } from '../../src/composition/approval-links.js';
import type { BuildEvent } from '../../src/domain/events.js';
import type { GateName } from '../../src/domain/build.js';
import type { BuildView } from '../../src/domain/status.js';
import { escapeHtml } from '../../src/http/html-page.js';
import { HmacApprovalLinkIssuer } from '../../src/pipeline/approval-links.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

const API_TOKEN = 'approval-links-test-api-token';
const auth = { authorization: `Bearer ${API_TOKEN}` };

let server: TestExecutor;
beforeAll(async () => {
  server = await startExecutor({ API_TOKEN });
});
afterAll(async () => {
  await server?.close();
});

const submit = (intent: string, approvalMode: 'final' | 'checkpoints') =>
  submitBuild(server.baseUrl, { architect_intent: intent, approval_mode: approvalMode, auto_deploy: false }, auth);
const waitFor = (buildId: string, statuses: BuildView['status'][]) => waitForStatus(server.baseUrl, buildId, statuses, 180_000, auth);
const journal = async (buildId: string) => (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`, { headers: auth })).body;
/** Links as the announcer signs them: for the build's current wait (with `gate`, that gate instead). */
async function linksFor(buildId: string, gate?: GateName) {
  const pending = (await waitFor(buildId, ['waiting_approval'])).pending_approval!;
  return server.executor.approvalLinks.linksFor(buildId, { gate: gate ?? pending.gate, requestedAt: pending.requested_at });
}

/** A browser's visit: no credentials, HTML back. */
async function visit(url: string, form?: Record<string, string>): Promise<{ status: number; html: string; headers: Headers }> {
  const response = await fetch(url, form ? { method: 'POST', body: new URLSearchParams(form) } : {});
  return { status: response.status, html: await response.text(), headers: response.headers };
}

describe('approval by signed link', () => {
  it('approves a waiting build from the page and its form, once; the GET changes nothing', async () => {
    const buildId = await submit('Build Inventory Tracker for warehouse stock levels', 'final');
    const waiting = await waitFor(buildId, ['waiting_approval']);
    expect(waiting.pending_approval?.gate).toBe('before_deploy');
    const { approveUrl } = await linksFor(buildId);
    expect(approveUrl.startsWith(`${server.baseUrl}/executor/approvals/`)).toBe(true);
    // The API itself still wants the token.
    expect((await api(server.baseUrl, `/executor/builds/${buildId}/status`)).status).toBe(401);

    const before = await journal(buildId);
    const page = await visit(approveUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.html).toContain(buildId);
    expect(page.html).toContain(waiting.droplet_name);
    expect(page.html).toContain(escapeHtml(waiting.pending_approval!.summary));
    expect(page.html).toMatch(/<form method="post">[\s\S]*<textarea id="feedback" name="feedback"[\s\S]*<button type="submit"/);
    await visit(approveUrl);
    expect(await journal(buildId)).toEqual(before);
    expect((await waitFor(buildId, ['waiting_approval'])).status).toBe('waiting_approval');

    // The form posts back to the page's own URL.
    const decided = await visit(approveUrl, { feedback: 'looks right' });
    expect(decided.status).toBe(200);
    expect(decided.html).toContain('Approved: the build goes on.');
    const done = await waitFor(buildId, ['completed']);
    expect(done.pending_approval).toBeNull();
    const approvals = (await journal(buildId)).filter((event) => event.type === 'build.approved');
    expect(approvals.map((event) => event.data)).toEqual([{ gate: 'before_deploy', step_number: 6, feedback: 'looks right' }]);

    const replayed = await visit(approveUrl, { feedback: 'again' });
    expect(replayed.status).toBe(409);
    expect(replayed.html).toContain('already used');
    expect((await visit(approveUrl)).status).toBe(409);
    expect((await journal(buildId)).filter((event) => event.type === 'build.approved')).toHaveLength(1);
  });

  it('rejects from the reject link (the build is cancelled), after refusing altered and expired links', async () => {
    const buildId = await submit('Build Recipe Library for family cooking notes', 'final');
    const waiting = await waitFor(buildId, ['waiting_approval']);
    const { approveUrl, rejectUrl } = await linksFor(buildId);

    // One character changed, in the payload and in the signature.
    const token = approveUrl.split('/').at(-1)!;
    const swap = (index: number) => `${token.slice(0, index)}${token[index] === 'A' ? 'B' : 'A'}${token.slice(index + 1)}`;
    for (const altered of [swap(10), swap(token.length - 1)]) {
      const page = await visit(`${server.baseUrl}/executor/approvals/${altered}`, {});
      expect(page.status).toBe(400);
      expect(page.html).toContain('APPROVAL_LINK_INVALID');
    }

    // Signed with the executor's own key (its DATA_DIR file), but issued two hours ago for one hour.
    const keyFile = join(server.dataDir, APPROVAL_LINK_KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // What feeds the executor's redactor: the key as the file holds it.
    expect(server.executor.config.secrets).toContain(readFileSync(keyFile, 'utf8').trim());
    const past = new HmacApprovalLinkIssuer({ key: approvalLinkKeyFile(server.dataDir), publicUrl: server.baseUrl, ttlSeconds: 3600, now: () => new Date(Date.now() - 7_200_000) });
    const wait = { gate: 'before_deploy', requestedAt: waiting.pending_approval!.requested_at } as const;
    const expired = await visit(past.linksFor(buildId, wait).approveUrl, {});
    expect(expired.status).toBe(410);
    expect(expired.html).toContain('expired');
    expect((await waitFor(buildId, ['waiting_approval'])).status).toBe('waiting_approval');

    const rejected = await visit(rejectUrl, { feedback: 'not this quarter' });
    expect(rejected.status).toBe(200);
    expect(rejected.html).toContain('Rejected: the build is cancelled.');
    const cancelled = await waitFor(buildId, ['cancelled']);
    expect(cancelled.error).toMatchObject({ code: 'REJECTED', details: { feedback: 'not this quarter' } });
    const stale = await visit(approveUrl, {});
    expect(stale.status).toBe(409);
    expect(stale.html).toContain('APPROVAL_LINK_STALE');
  });

  it('refuses a link for one gate while the build waits at the other', async () => {
    const buildId = await submit('Build Feedback Collector for user survey responses', 'checkpoints');
    expect((await waitFor(buildId, ['waiting_approval'])).pending_approval?.gate).toBe('after_spec');
    const early = await visit((await linksFor(buildId, 'before_deploy')).approveUrl, {});
    expect(early.status).toBe(409);
    expect(early.html).toContain('waits at the after_spec gate');

    const afterSpec = await linksFor(buildId);
    expect((await visit(afterSpec.approveUrl, {})).status).toBe(200);
    const next = await waitFor(buildId, ['waiting_approval']);
    expect(next.pending_approval?.gate).toBe('before_deploy');
    // The first gate's other link is refused now: the build waits at before_deploy.
    const late = await visit(afterSpec.rejectUrl, {});
    expect(late.status).toBe(409);
    expect(late.html).toContain('waits at the before_deploy gate');

    expect((await visit((await linksFor(buildId)).approveUrl, {})).status).toBe(200);
    const done = await waitFor(buildId, ['completed']);
    expect(done.steps[5]).toMatchObject({ step: 'deployer', status: 'skipped' });
    expect((await journal(buildId)).filter((event) => event.type === 'build.approved').map((event) => event.data.gate)).toEqual(['after_spec', 'before_deploy']);
  });
});
