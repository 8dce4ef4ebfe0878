/**
 * The approval pages over the real build service and store (in-memory SQLite, no
 * worker): what the pages show and send, that a GET changes nothing, every refusal (a
 * link for an earlier wait at the same gate too), the bearer check skipped for these
 * routes only, and the token kept out of the log and the error pages, even for 404s.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { ApprovalWait } from '../../src/domain/ports/approval-links.js';
import type { PendingApproval } from '../../src/domain/status.js';
import type { BuildService } from '../../src/pipeline/service.js';
import { HmacApprovalLinkIssuer, SignedApprovalLinkRedeemer } from '../../src/pipeline/approval-links.js';
import { SqliteApprovalLinkLedger } from '../../src/store/approval-links.js';
import { TestBuilds, startsTestApps } from '../support/http-app.js';

const KEY = Buffer.from('a test key of thirty-two bytes!!');
const API_TOKEN = 'api-token-for-the-pages-test';
const INTENT = 'Build Quote Board for "team" <script>alert(1)</script> & friends';
const start = startsTestApps();

interface Setup {
  builds?: Pick<BuildService, 'get' | 'approve'>;
  now?: () => Date;
}

async function waitingBuild(setup: Setup = {}) {
  const builds = new TestBuilds();
  const { build_id: buildId } = await builds.submit({ architectIntent: INTENT, approvalMode: 'final', autoDeploy: true });
  await builds.waitAtGate(buildId);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) }));
  const ledger = new SqliteApprovalLinkLedger(builds.db);
  const redeemer = new SignedApprovalLinkRedeemer({ key: KEY, builds: setup.builds ?? builds.service, ledger, ...(setup.now && { now: setup.now }) });
  const { app } = await start({ builds, approvalLinks: redeemer, apiToken: API_TOKEN, logger });
  const issuer = new HmacApprovalLinkIssuer({ key: KEY, publicUrl: 'http://127.0.0.1:8400', ttlSeconds: 3600 });
  const wait = waitOf((await builds.service.get(buildId)).pending_approval!);
  const links = issuer.linksFor(buildId, wait);
  return { app, builds, buildId, lines, ledger, issuer, wait, approve: path(links.approveUrl), reject: path(links.rejectUrl) };
}

const path = (url: string) => url.slice('http://127.0.0.1:8400'.length);
const waitOf = (pending: PendingApproval): ApprovalWait => ({ gate: pending.gate, requestedAt: pending.requested_at });

const events = async (builds: TestBuilds, buildId: string): Promise<BuildEvent[]> => builds.store.listEvents(buildId, 0);

function expectPageHeaders(headers: Record<string, unknown>) {
  expect(headers).toMatchObject({
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
  });
}

describe('approval pages', () => {
  it('shows the confirmation page without a bearer token, escaped, and changes nothing', async () => {
    const { app, builds, buildId, approve, reject } = await waitingBuild();
    const before = await events(builds, buildId);

    const page = await app.inject({ method: 'GET', url: approve });
    expect(page.statusCode).toBe(200);
    expectPageHeaders(page.headers);
    expect(page.body).toContain(buildId);
    expect(page.body).toContain('Review it.');
    expect(page.body).toContain('<form method="post">');
    expect(page.body).toContain('name="feedback"');
    expect(page.body).toContain('Build Quote Board for &quot;team&quot; &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends');
    expect(page.body).not.toContain('<script>');
    expect((await app.inject({ method: 'GET', url: reject })).body).toContain('>Reject</button>');
    expect((await app.inject({ method: 'HEAD', url: approve })).statusCode).toBe(200);

    // Looking (twice, both links) decided nothing and consumed nothing.
    expect(await events(builds, buildId)).toEqual(before);
    expect((await builds.service.get(buildId)).status).toBe('waiting_approval');
    // The rest of the API still wants the token.
    expect((await app.inject({ method: 'GET', url: `/executor/builds/${buildId}/status` })).statusCode).toBe(401);
  });

  it('approves from the posted form once, with its feedback; a replay is refused', async () => {
    const { app, builds, buildId, approve, lines } = await waitingBuild();
    const posted = await app.inject({
      method: 'POST',
      url: approve,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ feedback: 'ship <it>' }).toString(),
    });
    expect(posted.statusCode).toBe(200);
    expectPageHeaders(posted.headers);
    expect(posted.body).toContain('Approved: the build goes on.');
    expect(posted.body).toContain('<strong>queued</strong>');
    expect((await builds.service.get(buildId)).status).toBe('queued');
    const approved = (await events(builds, buildId)).filter((event) => event.type === 'build.approved');
    expect(approved.map((event) => event.data)).toEqual([{ gate: 'before_deploy', step_number: 6, feedback: 'ship <it>' }]);

    for (const method of ['POST', 'GET'] as const) {
      const replay = await app.inject({ method, url: approve });
      expect(replay.statusCode).toBe(409);
      expectPageHeaders(replay.headers);
      expect(replay.body).toContain('APPROVAL_LINK_USED');
    }
    expect((await events(builds, buildId)).filter((event) => event.type === 'build.approved')).toHaveLength(1);
    // Request lines are logged (with their URL) for other routes, never for these: the token is a credential.
    await app.inject({ method: 'GET', url: `/executor/builds/${buildId}/status` });
    expect(lines.join('')).toContain(`/executor/builds/${buildId}/status`);
    expect(lines.join('')).not.toContain(approve.split('/').at(-1)!);
  });

  it('rejects from a JSON post; an empty feedback is none; the approve link is then stale', async () => {
    const { app, builds, buildId, approve, reject } = await waitingBuild();
    const posted = await app.inject({ method: 'POST', url: reject, payload: { feedback: '  ' } });
    expect(posted.statusCode).toBe(200);
    expect(posted.body).toContain('Rejected: the build is cancelled.');
    const view = await builds.service.get(buildId);
    expect(view).toMatchObject({ status: 'cancelled', error: { code: 'REJECTED', details: { feedback: null } } });
    const stale = await app.inject({ method: 'POST', url: approve });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('APPROVAL_LINK_STALE');
    expect(stale.body).toContain('is cancelled');
  });

  it('refuses altered, expired and early links, and bad bodies, each with its status and the page headers', async () => {
    let now = new Date();
    const { app, builds, buildId, approve, issuer, wait } = await waitingBuild({ now: () => now });
    const altered = `${approve.slice(0, -5)}${approve.at(-5) === 'x' ? 'y' : 'x'}${approve.slice(-4)}`;
    for (const url of [altered, '/executor/approvals/nonsense', `/executor/approvals/${'A'.repeat(500)}`]) {
      const page = await app.inject({ method: 'POST', url });
      expect(page.statusCode, url).toBe(400);
      expectPageHeaders(page.headers);
      expect(page.body).toContain('APPROVAL_LINK_INVALID');
    }
    const tooLong = await app.inject({ method: 'POST', url: approve, payload: { feedback: 'f'.repeat(5001) } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.body).toContain('INVALID_INPUT');
    const unknown = await app.inject({ method: 'POST', url: approve, payload: { approved: false } });
    expect(unknown.statusCode).toBe(400);
    const text = await app.inject({ method: 'POST', url: approve, headers: { 'content-type': 'text/plain' }, payload: 'hi' });
    expect(text.statusCode).toBe(415);
    expectPageHeaders(text.headers);

    // Signed for another wait at this gate (a millisecond earlier): it is not the request this link answers.
    const earlier = { ...wait, requestedAt: new Date(Date.parse(wait.requestedAt) - 1).toISOString() };
    const earlyPage = await app.inject({ method: 'GET', url: path(issuer.linksFor(buildId, earlier).approveUrl) });
    expect(earlyPage.statusCode).toBe(409);
    expect(earlyPage.body).toContain('waits at the before_deploy gate again');

    const wrongGate = path(issuer.linksFor(buildId, { ...wait, gate: 'after_spec' }).approveUrl);
    const wrongPage = await app.inject({ method: 'POST', url: wrongGate });
    expect(wrongPage.statusCode).toBe(409);
    expect(wrongPage.body).toContain('waits at the before_deploy gate');

    now = new Date(Date.now() + 3601_000);
    const expired = await app.inject({ method: 'POST', url: approve });
    expect(expired.statusCode).toBe(410);
    expect(expired.body).toContain('APPROVAL_LINK_EXPIRED');
    expect((await builds.service.get(buildId)).status).toBe('waiting_approval');
  });

  it('refuses links signed late for an earlier wait at the same gate (a delayed delivery), on the page and its POST', async () => {
    const { app, builds, buildId, issuer, wait: first, reject } = await waitingBuild();
    expect((await app.inject({ method: 'POST', url: reject })).statusCode).toBe(200);
    // Retried: the build waits at the same gate again, a second later.
    await builds.retry(buildId, 6);
    await builds.store.claim(buildId);
    const requestedAt = new Date(Date.parse(first.requestedAt) + 1_000).toISOString();
    await builds.store.awaitApproval(buildId, { gate: 'before_deploy', step_number: 6, requested_at: requestedAt, summary: 'Review it again.' });

    // The first request's links, signed only now (as a late retry of its delivery would): they decide nothing.
    const late = issuer.linksFor(buildId, first);
    for (const method of ['GET', 'POST'] as const) {
      const page = await app.inject({ method, url: path(late.approveUrl) });
      expect(page.statusCode, method).toBe(409);
      expect(page.body).toContain('APPROVAL_LINK_STALE');
      expect(page.body).toContain(`waits at the before_deploy gate again (since ${requestedAt})`);
    }
    expect((await builds.service.get(buildId)).status).toBe('waiting_approval');

    const current = issuer.linksFor(buildId, { gate: 'before_deploy', requestedAt });
    const approved = await app.inject({ method: 'POST', url: path(current.approveUrl) });
    expect(approved.statusCode).toBe(200);
    expect((await builds.service.get(buildId)).status).toBe('queued');
  });

  it('keeps the token out of the log and the answer when a mangled link is not routed', async () => {
    const { app, buildId, approve, lines } = await waitingBuild();
    const token = approve.split('/').at(-1)!;
    const signature = token.split('.')[1]!;
    const bearer = { authorization: `Bearer ${API_TOKEN}` };
    // Without the API token (a browser) unrouted paths are refused 401; with it, 404.
    for (const [url, status, headers] of [
      [`${approve}/`, 401, {}],
      [`${approve}/`, 404, bearer],
      [`${approve}/extra?x=1`, 404, bearer],
      [`/executor/approvals//${token}`, 404, bearer],
      [`/Executor/Approvals/${token}`, 404, bearer],
      [`${approve}${'A'.repeat(600)}`, 414, {}],
    ] as const) {
      const answer = await app.inject({ method: 'GET', url, headers });
      expect(answer.statusCode, url).toBe(status);
      expect(answer.body).not.toContain(signature);
    }
    const notFound = await app.inject({ method: 'GET', url: `${approve}/`, headers: bearer });
    expect(notFound.json()).toMatchObject({ error: { code: 'NOT_FOUND', message: 'No route GET /executor/approvals/[REDACTED].' } });
    const logged = lines.join('');
    // The request lines were logged, their URLs masked.
    expect(logged).toContain('"url":"/executor/approvals/[REDACTED]"');
    expect(logged).not.toContain(signature);
    expect(logged).not.toContain(token.split('.')[0]!.slice(0, 40));
    // Other URLs are logged as they are.
    await app.inject({ method: 'GET', url: `/executor/builds/${buildId}/nope` });
    expect(lines.join('')).toContain(`/executor/builds/${buildId}/nope`);
  });

  it('gives a link back when the decision it guarded could not be made', async () => {
    let cancelFirst = true;
    const holder: { builds?: TestBuilds } = {};
    const { app, builds, buildId, approve, ledger } = await waitingBuild({
      builds: {
        get: (id) => holder.builds!.service.get(id),
        approve: async (id, decision) => {
          // The build is cancelled between the page's checks and the decision.
          if (cancelFirst) await holder.builds!.cancel(id);
          cancelFirst = false;
          return holder.builds!.service.approve(id, decision);
        },
      },
    });
    holder.builds = builds;
    const posted = await app.inject({ method: 'POST', url: approve });
    expect(posted.statusCode).toBe(409);
    expect(posted.body).toContain('CONFLICT');
    const nonce = JSON.parse(Buffer.from(approve.split('/').at(-1)!.split('.')[0]!, 'base64url').toString()) as { n: string };
    expect(await ledger.isUsed(nonce.n)).toBe(false);
    expect((await builds.service.get(buildId)).status).toBe('cancelled');
  });
});
