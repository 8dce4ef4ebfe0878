// @ts-check
// The notification hub: messages fanned out to channels with a delivery record each; a
// webhook is really called (the droplet's own inbox, and receivers on loopback that accept,
// refuse, redirect or never answer); email and Slack go out only through configured relays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { settingsFrom, targetProblem } from '../../src/archetypes/notification-hub.js';
import { AUTH, ISO_TIME, UUID, assertError, build, tempDataDir } from '../support/app.js';

/**
 * A receiver on loopback answering `status` (or never, for `'hang'`), recording what it got.
 * @param {import('node:test').TestContext} t @param {number | 'hang'} status @param {Record<string, string>} [headers]
 */
async function receiver(t, status, headers = {}) {
  /** @type {{ url: string | undefined, headers: import('node:http').IncomingHttpHeaders, body: any }[]} */
  const received = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => (text += chunk));
    request.on('end', () => {
      received.push({ url: request.url, headers: request.headers, body: JSON.parse(text) });
      if (status !== 'hang') response.writeHead(status, headers).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: 'http://127.0.0.1:' + port + '/hook', received };
}

/** @param {import('fastify').FastifyInstance} app @param {Record<string, unknown>} payload */
const addChannel = async (app, payload) => {
  const response = await app.inject({ method: 'POST', url: '/channels', headers: AUTH, payload });
  assert.equal(response.statusCode, 201, response.body);
  return response.json();
};
/** @param {import('fastify').FastifyInstance} app @param {Record<string, unknown>} payload */
const send = (app, payload) => app.inject({ method: 'POST', url: '/messages', headers: AUTH, payload });
/** @param {import('fastify').FastifyInstance} app @param {string} url */
const get = async (app, url) => (await app.inject({ method: 'GET', url, headers: AUTH })).json();

/** The app listening on loopback, so that it can call itself. @param {import('node:test').TestContext} t @param {Record<string, string>} [env] */
async function listening(t, env) {
  const app = build(t, env);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

test("a message fans out to every channel: a webhook to the droplet's own /inbox is delivered, email and slack are not_configured", async (t) => {
  const app = await listening(t);
  const hook = await addChannel(app, { kind: 'webhook', target: '/inbox', name: 'self' });
  const mail = await addChannel(app, { kind: 'email', target: 'ops@example.org' });
  const slack = await addChannel(app, { kind: 'slack', target: '#alerts' });
  assert.match(hook.id, UUID);
  assert.deepEqual([hook.name, mail.name], ['self', null]);
  const response = await send(app, { subject: 'Deploy', text: 'payments is live' });
  assert.equal(response.statusCode, 201, response.body);
  const message = response.json();
  assert.deepEqual(message.delivery_counts, { delivered: 1, failed: 0, not_configured: 2 });
  assert.deepEqual(message.deliveries.map((/** @type {{ channel_id: string, status: string, http_status: number | null }} */ d) => [d.channel_id, d.status, d.http_status]), [
    [hook.id, 'delivered', 201],
    [mail.id, 'not_configured', null],
    [slack.id, 'not_configured', null],
  ]);
  assert.match(message.deliveries[0].attempted_at, ISO_TIME);
  assert.match(message.deliveries[1].error, /EMAIL_WEBHOOK_URL/);
  assert.match(message.deliveries[2].error, /SLACK_WEBHOOK_URL/);
  const inbox = await get(app, '/inbox?message_id=' + message.id);
  assert.equal(inbox.total, 1);
  assert.deepEqual(inbox.items[0].body, { message_id: message.id, subject: 'Deploy', text: 'payments is live', channel_id: hook.id, sent_at: message.deliveries[0].attempted_at });
  assert.deepEqual(await get(app, '/messages/' + message.id + '/deliveries/' + mail.id), message.deliveries[1]);
  assert.deepEqual(await get(app, '/messages/' + message.id), message);
  assert.equal((await get(app, '/messages')).total, 1);
});

test('an outside webhook gets the JSON without the token; refusals, redirects, silence and closed ports are recorded as failed', async (t) => {
  const app = await listening(t, { NOTIFY_DELIVERY_TIMEOUT_MS: '300' });
  const ok = await receiver(t, 204);
  const refusing = await receiver(t, 500);
  const redirecting = await receiver(t, 302, { location: 'http://169.254.169.254/' });
  const silent = await receiver(t, 'hang');
  // Port 1 (tcpmux) is privileged and served by nothing here: the connection is refused.
  const targets = [ok.url, refusing.url, redirecting.url, silent.url, 'http://127.0.0.1:1/hook'];
  const channels = [];
  for (const target of targets) channels.push(await addChannel(app, { kind: 'webhook', target }));
  const message = (await send(app, { text: 'out', channel_ids: channels.map((channel) => channel.id) })).json();
  assert.deepEqual(message.deliveries.map((/** @type {{ status: string, http_status: number | null }} */ d) => [d.status, d.http_status]), [
    ['delivered', 204],
    ['failed', 500],
    ['failed', 302],
    ['failed', null],
    ['failed', null],
  ]);
  assert.match(message.deliveries[1].error, /answered 500/);
  assert.match(message.deliveries[3].error, /no answer within 300 ms/);
  assert.match(message.deliveries[4].error, /could not reach the target/);
  const [hit, ...more] = ok.received;
  assert.ok(hit && more.length === 0, 'the receiver was called once');
  assert.equal(hit.headers.authorization, undefined);
  assert.equal(hit.headers['content-type'], 'application/json');
  assert.deepEqual({ ...hit.body, sent_at: undefined }, { message_id: message.id, subject: null, text: 'out', channel_id: channels[0].id, sent_at: undefined });
  assert.equal(redirecting.received.length, 1, 'the redirect was not followed');
});

test('slack and email go out through SLACK_WEBHOOK_URL and EMAIL_WEBHOOK_URL when they are set', async (t) => {
  const slackRelay = await receiver(t, 200);
  const mailRelay = await receiver(t, 202);
  const app = await listening(t, { SLACK_WEBHOOK_URL: slackRelay.url, EMAIL_WEBHOOK_URL: mailRelay.url });
  await addChannel(app, { kind: 'slack', target: '#alerts' });
  await addChannel(app, { kind: 'email', target: 'ops@example.org' });
  const message = (await send(app, { subject: 'Deploy', text: 'payments is live' })).json();
  assert.deepEqual(message.delivery_counts, { delivered: 2, failed: 0, not_configured: 0 });
  assert.deepEqual(slackRelay.received.map((request) => request.body), [{ channel: '#alerts', text: 'Deploy\n\npayments is live' }]);
  assert.deepEqual(mailRelay.received.map((request) => request.body), [{ to: 'ops@example.org', subject: 'Deploy', text: 'payments is live' }]);
});

test('targets are untrusted: a webhook only to http(s) or a path of the droplet, an email to an address, slack to a channel', async (t) => {
  assert.equal(targetProblem('webhook', 'https://hooks.example.org/x'), null);
  assert.equal(targetProblem('webhook', '/inbox'), null);
  for (const target of ['file:///etc/passwd', 'javascript:alert(1)', '//evil.example/x', 'inbox', 'http://user:pw@example.org', 'ftp://example.org']) {
    assert.notEqual(targetProblem('webhook', target), null, target);
  }
  assert.notEqual(targetProblem('email', 'not an address'), null);
  assert.notEqual(targetProblem('slack', 'https://hooks.slack.com/x'), null);
  const app = build(t);
  for (const payload of [{ kind: 'webhook', target: 'file:///etc/passwd' }, { kind: 'email', target: 'x' }, { kind: 'sms', target: '+15550100' }, { kind: 'webhook' }, { kind: 'webhook', target: '/inbox', extra: 1 }]) {
    assertError(await app.inject({ method: 'POST', url: '/channels', headers: AUTH, payload }), 400, 'VALIDATION_FAILED');
  }
  assertError(await send(app, { text: 'to nobody' }), 422, 'NO_CHANNELS');
  const channel = await addChannel(app, { kind: 'email', target: 'ops@example.org' });
  assert.deepEqual(assertError(await send(app, { text: 'x', channel_ids: [channel.id, 'gone'] }), 422, 'REFERENCE_NOT_FOUND').details.missing, ['gone']);
  assertError(await send(app, { text: '' }), 400, 'VALIDATION_FAILED');
  assert.equal((await app.inject({ method: 'DELETE', url: '/channels/' + channel.id, headers: AUTH })).statusCode, 204);
  assertError(await app.inject({ method: 'DELETE', url: '/channels/' + channel.id, headers: AUTH }), 404, 'NOT_FOUND');
  assertError(await app.inject({ method: 'POST', url: '/inbox', payload: { text: 'x' } }), 401, 'UNAUTHORIZED');
  assertError(await app.inject({ method: 'GET', url: '/messages/nothing', headers: AUTH }), 404, 'NOT_FOUND');
  assert.throws(() => settingsFrom({ delivery_timeout_ms: 5000, max_channels: 1, max_messages: 1, max_inbox: 1 }, { SLACK_WEBHOOK_URL: 'ftp://x' }), /SLACK_WEBHOOK_URL/);
});

test('a webhook from a droplet that is not listening is recorded as failed, not thrown', async (t) => {
  const app = build(t);
  await addChannel(app, { kind: 'webhook', target: '/inbox' });
  const message = (await send(app, { text: 'x' })).json();
  assert.deepEqual([message.deliveries[0].status, message.deliveries[0].http_status], ['failed', null]);
  assert.match(message.deliveries[0].error, /not listening/);
});

test('channels, messages and the inbox survive a restart over the same DATA_DIR', async (t) => {
  const dataDir = tempDataDir(t);
  const first = await listening(t, { DATA_DIR: dataDir });
  await addChannel(first, { kind: 'webhook', target: '/inbox' });
  const message = (await send(first, { text: 'kept' })).json();
  await first.close();
  const second = build(t, { DATA_DIR: dataDir });
  assert.equal((await get(second, '/channels')).total, 1);
  assert.deepEqual(await get(second, '/messages/' + message.id), message);
  assert.equal((await get(second, '/inbox?message_id=' + message.id)).total, 1);
});
