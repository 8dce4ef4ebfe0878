// @ts-check
// Notification hub: channels (webhook, email, slack) and messages fanned out to them, with
// a delivery record per channel per message, made within the POST of the message. A webhook
// is really called (POST JSON, bounded by a timeout); email and Slack leave the droplet
// only through a relay webhook set in the environment, else their record says
// not_configured. POST /inbox is a receiver of its own, so a webhook to the droplet itself
// can be proven. Channels, messages and the inbox live in DATA_DIR.
import { randomUUID } from 'node:crypto';
import { StartupError, HttpError } from '../errors.js';
import { KeyedState } from './keyed-state.js';
import { numberSetting } from './settings.js';
import { WEB_URL_MAX_LENGTH, isWebUrl } from './web-url.js';

/**
 * @typedef {'webhook' | 'email' | 'slack'} ChannelKind
 * @typedef {{ id: string, name: string | null, kind: ChannelKind, target: string, created_at: string }} Channel
 * @typedef {'delivered' | 'failed' | 'not_configured'} DeliveryStatus
 * @typedef {{ channel_id: string, kind: ChannelKind, target: string, status: DeliveryStatus, http_status: number | null, error: string | null, attempted_at: string }} Delivery
 * @typedef {{ id: string, subject: string | null, text: string, created_at: string, deliveries: Delivery[], delivery_counts: Record<DeliveryStatus, number> }} Message
 * @typedef {{ id: string, received_at: string, body: Record<string, unknown> }} Received
 */

export const CHANNEL_KINDS = ['webhook', 'email', 'slack'];
/** A path on the droplet itself: one leading slash (never `//host`), no scheme. */
const RELATIVE_TARGET = /^\/(?!\/)[A-Za-z0-9._~%/-]{0,200}$/;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{1,63}$/;
const SLACK_CHANNEL = /^[#@]?[a-z0-9._-]{1,80}$/;
const ID = { type: 'string', minLength: 1, maxLength: 100 };
const page = { limit: { type: 'string', pattern: '^([1-9][0-9]?|100)$' }, offset: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' } };
const channelBody = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'target'],
  properties: { kind: { type: 'string', enum: CHANNEL_KINDS }, target: { type: 'string', minLength: 1, maxLength: WEB_URL_MAX_LENGTH }, name: { type: 'string', minLength: 1, maxLength: 100 } },
};
const messageBody = {
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: { text: { type: 'string', minLength: 1, maxLength: 10000 }, subject: { type: 'string', minLength: 1, maxLength: 200 }, channel_ids: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: ID } },
};
const idParams = { type: 'object', required: ['id'], properties: { id: ID } };
const deliveryParams = { type: 'object', required: ['id', 'channel_id'], properties: { id: ID, channel_id: ID } };
const pageQuery = { type: 'object', additionalProperties: false, properties: page };
const inboxQuery = { type: 'object', additionalProperties: false, properties: { ...page, message_id: ID } };

export const endpoints = [
  { method: 'POST', path: '/channels', description: 'Add a channel: a webhook (http(s) URL, or a path on this droplet), an email address or a Slack channel.' },
  { method: 'GET', path: '/channels', description: 'List channels.' },
  { method: 'DELETE', path: '/channels/:id', description: 'Remove a channel.' },
  { method: 'POST', path: '/messages', description: 'Send a message to every channel (or those named); answers with a delivery record per channel.' },
  { method: 'GET', path: '/messages', description: 'List messages with their deliveries.' },
  { method: 'GET', path: '/messages/:id', description: 'One message and its deliveries.' },
  { method: 'GET', path: '/messages/:id/deliveries/:channel_id', description: "One channel's delivery of a message." },
  { method: 'POST', path: '/inbox', description: 'Receive a webhook (any JSON object): what a webhook channel aimed at this droplet delivers to.' },
  { method: 'GET', path: '/inbox', description: 'List what the inbox received, by message_id.' },
];

/** An optional relay address from the environment: empty when unset. @param {import('./index.js').Env} env @param {string} variable */
function relayUrl(env, variable) {
  const raw = env[variable];
  if (raw === undefined || raw === '') return '';
  if (!isWebUrl(raw)) throw new StartupError(variable + ' must be an absolute http(s) URL without credentials.');
  return raw;
}

/**
 * @param {import('./index.js').Settings} planned
 * @param {import('./index.js').Env} env
 */
export function settingsFrom(planned, env) {
  return {
    delivery_timeout_ms: numberSetting({ planned, env, setting: 'delivery_timeout_ms', variable: 'NOTIFY_DELIVERY_TIMEOUT_MS', min: 100, max: 60000, integer: true }),
    max_channels: numberSetting({ planned, env, setting: 'max_channels', min: 1, max: 100000, integer: true }),
    max_messages: numberSetting({ planned, env, setting: 'max_messages', variable: 'NOTIFY_MAX_MESSAGES', min: 1, max: 1000000, integer: true }),
    max_inbox: numberSetting({ planned, env, setting: 'max_inbox', min: 1, max: 100000, integer: true }),
    // Secrets of the environment alone: never in plan.json, never shown.
    slack_webhook_url: relayUrl(env, 'SLACK_WEBHOOK_URL'),
    email_webhook_url: relayUrl(env, 'EMAIL_WEBHOOK_URL'),
  };
}

/**
 * Why a channel's target does not fit its kind, or null when it does. Targets are untrusted:
 * a webhook only to an http(s) address or to a path on this droplet.
 * @param {ChannelKind} kind @param {string} target
 */
export function targetProblem(kind, target) {
  if (kind === 'webhook') return isWebUrl(target) || RELATIVE_TARGET.test(target) ? null : 'a webhook target must be an http(s) URL without credentials, or a path on this droplet such as /inbox';
  if (kind === 'email') return EMAIL.test(target) && target.length <= 254 ? null : 'an email target must be an email address';
  return SLACK_CHANNEL.test(target) ? null : 'a slack target must be a channel name such as #alerts';
}

/** The droplet's own address while it listens, for relative targets. @param {import('fastify').FastifyInstance} app */
function ownBaseUrl(app) {
  const address = app.server.address();
  if (address === null || typeof address !== 'object') return undefined;
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return 'http://' + (host.includes(':') ? '[' + host + ']' : host) + ':' + address.port;
}

/**
 * POSTs `payload` to `url` and says how it went; redirects are not followed (the target was checked, where it points next was not).
 * @param {string} url @param {unknown} payload @param {{ timeoutMs: number, headers?: Record<string, string> }} options
 * @returns {Promise<{ status: DeliveryStatus, http_status: number | null, error: string | null }>}
 */
export async function postJson(url, payload, { timeoutMs, headers = {} }) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'notification-hub', ...headers },
      body: JSON.stringify(payload),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { status: ok ? 'delivered' : 'failed', http_status: response.status, error: ok ? null : 'the target answered ' + response.status };
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return { status: 'failed', http_status: null, error: timedOut ? 'no answer within ' + timeoutMs + ' ms' : 'could not reach the target: ' + cause.slice(0, 200) };
  }
}

/** @param {Delivery[]} deliveries */
const countsOf = (deliveries) => {
  /** @type {Record<DeliveryStatus, number>} */
  const counts = { delivered: 0, failed: 0, not_configured: 0 };
  for (const delivery of deliveries) counts[delivery.status] += 1;
  return counts;
};

/** @template T @param {T[]} items @param {{ limit?: string, offset?: string }} query */
function pageOf(items, query) {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  const offset = query.offset === undefined ? 0 : Number(query.offset);
  return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
}

/** @param {string} what @param {string} id */
const missing = (what, id) => new HttpError(404, 'NOT_FOUND', 'There is no ' + what + ' with the id "' + id.slice(0, 100) + '".', { id: id.slice(0, 100) });

/**
 * One channel's delivery of a message.
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./index.js').ArchetypeContext} context
 * @returns {(channel: Channel, message: { id: string, subject: string | null, text: string }) => Promise<Delivery>}
 */
function deliverer(app, { settings, now, apiToken }) {
  const timeoutMs = Number(settings.delivery_timeout_ms);
  const relays = { slack: String(settings.slack_webhook_url ?? ''), email: String(settings.email_webhook_url ?? '') };
  return async (channel, message) => {
    const attempted_at = new Date(now()).toISOString();
    const record = { channel_id: channel.id, kind: channel.kind, target: channel.target, attempted_at };
    if (channel.kind === 'webhook') {
      const payload = { message_id: message.id, subject: message.subject, text: message.text, channel_id: channel.id, sent_at: attempted_at };
      if (!channel.target.startsWith('/')) return { ...record, ...(await postJson(channel.target, payload, { timeoutMs })) };
      const base = ownBaseUrl(app);
      if (!base) return { ...record, status: 'failed', http_status: null, error: 'the droplet is not listening, so it cannot call itself' };
      // The droplet calling itself: the only call that carries its own token.
      return { ...record, ...(await postJson(base + channel.target, payload, { timeoutMs, headers: apiToken ? { authorization: 'Bearer ' + apiToken } : {} })) };
    }
    const relay = relays[channel.kind];
    const variable = channel.kind === 'slack' ? 'SLACK_WEBHOOK_URL' : 'EMAIL_WEBHOOK_URL';
    if (relay === '') return { ...record, status: 'not_configured', http_status: null, error: 'no ' + variable + ' is set: ' + channel.kind + ' cannot leave the droplet' };
    const text = message.subject === null ? message.text : message.subject + '\n\n' + message.text;
    const payload = channel.kind === 'slack' ? { channel: channel.target, text } : { to: channel.target, subject: message.subject ?? '', text: message.text };
    return { ...record, ...(await postJson(relay, payload, { timeoutMs })) };
  };
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./index.js').ArchetypeContext} context
 */
export function register(app, context) {
  const { settings, dataDir, now } = context;
  /** @type {KeyedState<Channel>} */
  const channels = new KeyedState(dataDir, 'channels');
  /** @type {KeyedState<Message>} */
  const messages = new KeyedState(dataDir, 'messages');
  /** @type {KeyedState<Received>} */
  const inbox = new KeyedState(dataDir, 'inbox');
  const deliver = deliverer(app, context);
  /** @param {number} limit @param {string} what */
  const full = (limit, what) => new HttpError(409, 'CAPACITY_REACHED', 'The hub holds ' + limit + ' ' + what + ' already.', { limit });

  app.post('/channels', { schema: { body: channelBody } }, async (request, reply) => {
    const { kind, target, name } = /** @type {{ kind: ChannelKind, target: string, name?: string }} */ (request.body);
    const problem = targetProblem(kind, target);
    if (problem) throw new HttpError(400, 'VALIDATION_FAILED', problem.charAt(0).toUpperCase() + problem.slice(1) + '.', { field: 'target' });
    const channel = await channels.change((entries) => {
      if (entries.size >= Number(settings.max_channels)) throw full(Number(settings.max_channels), 'channels');
      /** @type {Channel} */
      const created = { id: randomUUID(), name: name ?? null, kind, target, created_at: new Date(now()).toISOString() };
      entries.set(created.id, created);
      return created;
    });
    return reply.code(201).send(channel);
  });

  app.get('/channels', { schema: { querystring: pageQuery } }, async (request) => pageOf(channels.values(), /** @type {{ limit?: string, offset?: string }} */ (request.query)));

  app.delete('/channels/:id', { schema: { params: idParams } }, async (request, reply) => {
    const { id } = /** @type {{ id: string }} */ (request.params);
    await channels.change((entries) => {
      if (!entries.delete(id)) throw missing('channel', id);
      return true;
    });
    return reply.code(204).send();
  });

  registerMessages(app, { messages, channels, deliver, now, maxMessages: Number(settings.max_messages), full });
  registerInbox(app, { inbox, now, maxInbox: Number(settings.max_inbox) });

  return { count: () => channels.size + messages.size, flushed: () => Promise.all([channels.flushed(), messages.flushed(), inbox.flushed()]) };
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {{ messages: KeyedState<Message>, channels: KeyedState<Channel>, deliver: ReturnType<typeof deliverer>, now: () => number, maxMessages: number, full: (limit: number, what: string) => HttpError }} parts
 */
function registerMessages(app, { messages, channels, deliver, now, maxMessages, full }) {
  app.post('/messages', { schema: { body: messageBody } }, async (request, reply) => {
    const input = /** @type {{ text: string, subject?: string, channel_ids?: string[] }} */ (request.body);
    const unknown = (input.channel_ids ?? []).filter((id) => !channels.get(id));
    if (unknown.length > 0) throw new HttpError(422, 'REFERENCE_NOT_FOUND', 'No channel has the id ' + unknown.map((id) => '"' + id + '"').join(', ') + '.', { field: 'channel_ids', missing: unknown });
    const targets = input.channel_ids ? input.channel_ids.map((id) => /** @type {Channel} */ (channels.get(id))) : channels.values();
    if (targets.length === 0) throw new HttpError(422, 'NO_CHANNELS', 'There is no channel to send the message to: add one with POST /channels.');
    if (messages.size >= maxMessages) throw full(maxMessages, 'messages');
    const head = { id: randomUUID(), subject: input.subject ?? null, text: input.text, created_at: new Date(now()).toISOString() };
    // Every channel at once, each bounded by the delivery timeout; answered once all are recorded.
    const deliveries = await Promise.all(targets.map((channel) => deliver(channel, head)));
    /** @type {Message} */
    const message = { ...head, deliveries, delivery_counts: countsOf(deliveries) };
    await messages.change((entries) => {
      if (entries.size >= maxMessages) throw full(maxMessages, 'messages');
      entries.set(message.id, message);
      return true;
    });
    return reply.code(201).send(message);
  });

  app.get('/messages', { schema: { querystring: pageQuery } }, async (request) => pageOf(messages.values(), /** @type {{ limit?: string, offset?: string }} */ (request.query)));

  app.get('/messages/:id', { schema: { params: idParams } }, async (request) => {
    const { id } = /** @type {{ id: string }} */ (request.params);
    const message = messages.get(id);
    if (!message) throw missing('message', id);
    return message;
  });

  app.get('/messages/:id/deliveries/:channel_id', { schema: { params: deliveryParams } }, async (request) => {
    const { id, channel_id: channelId } = /** @type {{ id: string, channel_id: string }} */ (request.params);
    const message = messages.get(id);
    if (!message) throw missing('message', id);
    const delivery = message.deliveries.find((candidate) => candidate.channel_id === channelId);
    if (!delivery) throw new HttpError(404, 'NOT_FOUND', 'The message was not sent to the channel "' + channelId.slice(0, 100) + '".', { id, channel_id: channelId.slice(0, 100) });
    return delivery;
  });
}

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {{ inbox: KeyedState<Received>, now: () => number, maxInbox: number }} parts
 */
function registerInbox(app, { inbox, now, maxInbox }) {
  app.post('/inbox', { schema: { body: { type: 'object' } } }, async (request, reply) => {
    const received = await inbox.change((entries) => {
      /** @type {Received} */
      const entry = { id: randomUUID(), received_at: new Date(now()).toISOString(), body: /** @type {Record<string, unknown>} */ (request.body) };
      entries.set(entry.id, entry);
      // A receiver keeps the latest: the oldest go first.
      for (const id of entries.keys()) {
        if (entries.size <= maxInbox) break;
        entries.delete(id);
      }
      return entry;
    });
    return reply.code(201).send(received);
  });

  app.get('/inbox', { schema: { querystring: inboxQuery } }, async (request) => {
    const query = /** @type {{ message_id?: string, limit?: string, offset?: string }} */ (request.query);
    return pageOf(inbox.values().filter((entry) => query.message_id === undefined || entry.body.message_id === query.message_id), query);
  });
}
