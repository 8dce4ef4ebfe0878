/**
 * Notification hub: channels (a webhook, an email address, a Slack channel) and messages
 * fanned out to them, each message answered with a delivery record per channel. Webhooks
 * are really called; email and Slack go out only through a relay webhook the operator
 * sets, and their records say `not_configured` otherwise. `POST /inbox` lets a webhook
 * aimed at the droplet itself prove a real delivery inside a sandbox with no network.
 */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { Archetype, ArchetypePlan, OpenApiPart } from './archetype.js';
import { INVALID, UNAUTHORIZED, answer, body, errorResponse, pathParameter, queryParameter, ref } from './openapi-parts.js';

const KINDS = ['webhook', 'email', 'slack'];
const STATUSES = ['delivered', 'failed', 'not_configured'];
const ID = { type: 'string', minLength: 1, maxLength: 100 };
const TIME = { type: 'string', format: 'date-time' };
const TARGET = { type: 'string', minLength: 1, maxLength: 2000, description: 'webhook: an http(s) URL, or a path on this droplet (/inbox); email: an address; slack: a channel (#alerts).' };
const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
const PAGING = [
  queryParameter('limit', { type: 'integer', minimum: 1, maximum: 100, default: 50 }, 'Page size.'),
  queryParameter('offset', { type: 'integer', minimum: 0, default: 0 }, 'Entries to skip.'),
];
const pageOf = (item: string) => ({
  type: 'object', required: ['items', 'total', 'limit', 'offset'],
  properties: { items: { type: 'array', items: ref(item) }, total: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 100 }, offset: { type: 'integer', minimum: 0 } },
});

const ENDPOINTS = [
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

function spec(plan: ArchetypePlan): string {
  return `A channel is \`{kind, target, name?}\`: \`webhook\` with an http(s) URL (no credentials) or a path
on this droplet such as \`/inbox\`; \`email\` with an address; \`slack\` with a channel such as
\`#alerts\`. Targets are checked when the channel is added (400 otherwise). \`POST /messages\`
with \`{text, subject?, channel_ids?}\` sends the message to the channels named (422
\`REFERENCE_NOT_FOUND\` for an unknown one), or to every channel (422 \`NO_CHANNELS\` when there is
none), and answers 201 once every delivery is recorded: \`deliveries\` holds one record per
channel \`{channel_id, kind, target, status, http_status, error, attempted_at}\` and
\`delivery_counts\` counts them by \`status\`:

- **webhook**: the droplet POSTs \`{message_id, subject, text, channel_id, sent_at}\` as JSON to the
  target, waiting at most ${String(plan.settings.delivery_timeout_ms)} ms (\`NOTIFY_DELIVERY_TIMEOUT_MS\`) and following no
  redirect: \`delivered\` on a 2xx answer, else \`failed\` with the status or the error. A path
  target is the droplet itself, called at its own address with its own API token; no other
  target is ever sent the token.
- **slack**: POSTs \`{channel, text}\` to \`SLACK_WEBHOOK_URL\` (a Slack incoming webhook) when it is
  set; **email**: POSTs \`{to, subject, text}\` to \`EMAIL_WEBHOOK_URL\` (an HTTP mail relay) when it
  is set. Without them the record says \`not_configured\`: the droplet speaks neither SMTP nor
  Slack's API, so nothing leaves it.

\`GET /messages/{id}\` and \`GET /messages/{id}/deliveries/{channel_id}\` read the records later;
\`GET /messages\`, \`GET /channels\` list (\`{items, total, limit, offset}\`); \`DELETE /channels/{id}\`
removes a channel. \`POST /inbox\` receives any JSON object (201 \`{id, received_at, body}\`) and
\`GET /inbox?message_id=\` lists what came in, the latest ${String(plan.settings.max_inbox)} kept. A failed delivery is
not retried: its record says why. Channels, messages and the inbox are kept in
\`DATA_DIR/channels.json\`, \`messages.json\` and \`inbox.json\` (atomic writes); beyond
${String(plan.settings.max_channels)} channels or ${String(plan.settings.max_messages)} messages a new one is 409 \`CAPACITY_REACHED\`.`;
}

function openApi(_plan: ArchetypePlan): OpenApiPart {
  const message = answer('The message and its deliveries.', 'Message');
  const missingMessage = errorResponse('There is no message with that id.');
  return {
    paths: {
      '/channels': {
        post: {
          operationId: 'add_channel', summary: 'Add a channel.', requestBody: body('ChannelInput', { kind: 'webhook', target: 'https://hooks.example.org/alerts', name: 'ops' }),
          responses: { '201': answer('The channel.', 'Channel'), '400': INVALID, '401': UNAUTHORIZED, '409': errorResponse('The hub is full.') },
        },
        get: { operationId: 'list_channels', summary: 'List channels.', parameters: PAGING, responses: { '200': answer('A page of channels.', 'ChannelPage'), '400': INVALID, '401': UNAUTHORIZED } },
      },
      '/channels/{id}': {
        parameters: [pathParameter('id', ID, 'The channel.')],
        delete: { operationId: 'remove_channel', summary: 'Remove a channel.', responses: { '204': { description: 'Removed.' }, '401': UNAUTHORIZED, '404': errorResponse('There is no channel with that id.') } },
      },
      '/messages': {
        post: {
          operationId: 'send_message', summary: 'Fan a message out to channels.', requestBody: body('MessageInput', { subject: 'Deploy finished', text: 'payments 1.4.2 is live.' }),
          responses: { '201': message, '400': INVALID, '401': UNAUTHORIZED, '409': errorResponse('The hub is full.'), '422': errorResponse('A channel named does not exist, or there is no channel.') },
        },
        get: { operationId: 'list_messages', summary: 'List messages.', parameters: PAGING, responses: { '200': answer('A page of messages.', 'MessagePage'), '400': INVALID, '401': UNAUTHORIZED } },
      },
      '/messages/{id}': {
        parameters: [pathParameter('id', ID, 'The message.')],
        get: { operationId: 'get_message', summary: 'One message and its deliveries.', responses: { '200': message, '401': UNAUTHORIZED, '404': missingMessage } },
      },
      '/messages/{id}/deliveries/{channel_id}': {
        parameters: [pathParameter('id', ID, 'The message.'), pathParameter('channel_id', ID, 'The channel.')],
        get: { operationId: 'get_delivery', summary: "One channel's delivery of a message.", responses: { '200': answer('The delivery record.', 'Delivery'), '401': UNAUTHORIZED, '404': errorResponse('No such message, or it was not sent to that channel.') } },
      },
      '/inbox': {
        post: {
          operationId: 'receive_webhook', summary: 'Receive a webhook.', requestBody: body('InboxInput', { message_id: '5b1c1c9e-8f0e-4c57-a6b8-0d1e8d0f3a61', text: 'hello' }),
          responses: { '201': answer('Received.', 'Received'), '400': INVALID, '401': UNAUTHORIZED },
        },
        get: {
          operationId: 'list_inbox', summary: 'What the inbox received.', parameters: [...PAGING, queryParameter('message_id', ID, 'Only what a webhook delivered for this message.')],
          responses: { '200': answer('A page of what was received.', 'ReceivedPage'), '400': INVALID, '401': UNAUTHORIZED },
        },
      },
    },
    schemas: {
      ChannelInput: { type: 'object', additionalProperties: false, required: ['kind', 'target'], properties: { kind: { enum: KINDS }, target: TARGET, name: { type: 'string', minLength: 1, maxLength: 100 } } },
      Channel: { type: 'object', required: ['id', 'name', 'kind', 'target', 'created_at'], properties: { id: ID, name: nullable({ type: 'string' }), kind: { enum: KINDS }, target: TARGET, created_at: TIME } },
      ChannelPage: pageOf('Channel'),
      MessageInput: {
        type: 'object', additionalProperties: false, required: ['text'],
        properties: { text: { type: 'string', minLength: 1, maxLength: 10000 }, subject: { type: 'string', minLength: 1, maxLength: 200 }, channel_ids: { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: ID } },
      },
      Delivery: {
        type: 'object', required: ['channel_id', 'kind', 'target', 'status', 'http_status', 'error', 'attempted_at'],
        properties: { channel_id: ID, kind: { enum: KINDS }, target: TARGET, status: { enum: STATUSES }, http_status: nullable({ type: 'integer', minimum: 100, maximum: 599 }), error: nullable({ type: 'string' }), attempted_at: TIME },
      },
      Message: {
        type: 'object', required: ['id', 'subject', 'text', 'created_at', 'deliveries', 'delivery_counts'],
        properties: {
          id: ID, subject: nullable({ type: 'string' }), text: { type: 'string' }, created_at: TIME, deliveries: { type: 'array', items: ref('Delivery') },
          delivery_counts: { type: 'object', required: STATUSES, properties: Object.fromEntries(STATUSES.map((status) => [status, { type: 'integer', minimum: 0 }])) },
        },
      },
      MessagePage: pageOf('Message'),
      InboxInput: { type: 'object', description: 'Any JSON object.' },
      Received: { type: 'object', required: ['id', 'received_at', 'body'], properties: { id: ID, received_at: TIME, body: { type: 'object' } } },
      ReceivedPage: pageOf('Received'),
    },
  };
}

const post = (path: string, json: unknown) => ({ method: 'POST' as const, path, body: json });
const get = (path: string) => ({ method: 'GET' as const, path });

function scenarios(plan: ArchetypePlan): AcceptanceScenario[] {
  const covers = plan.covers;
  const text = 'the acceptance run says hello';
  return [
    {
      name: "a message fans out to every channel named: the webhook to the droplet's own inbox is delivered, email and slack say not_configured",
      covers,
      steps: [
        { request: post('/channels', { kind: 'webhook', target: '/inbox', name: 'own inbox' }), expect: { status: 201, json: { kind: 'webhook', target: '/inbox', name: 'own inbox' } }, capture: { hook: 'id' } },
        { request: post('/channels', { kind: 'email', target: 'ops@example.org' }), expect: { status: 201, json: { kind: 'email', name: null } }, capture: { mail: 'id' } },
        { request: post('/channels', { kind: 'slack', target: '#alerts' }), expect: { status: 201, json: { kind: 'slack' } }, capture: { slack: 'id' } },
        {
          request: post('/messages', { subject: 'acceptance', text, channel_ids: ['{{hook}}', '{{mail}}', '{{slack}}'] }),
          expect: { status: 201, json: { subject: 'acceptance', text, delivery_counts: { delivered: 1, failed: 0, not_configured: 2 } } },
          capture: { message: 'id' },
        },
        { request: get('/messages/{{message}}/deliveries/{{hook}}'), expect: { status: 200, json: { channel_id: '{{hook}}', status: 'delivered', http_status: 201, error: null } } },
        { request: get('/messages/{{message}}/deliveries/{{mail}}'), expect: { status: 200, json: { kind: 'email', status: 'not_configured', http_status: null } } },
        { request: get('/inbox?message_id={{message}}'), expect: { status: 200, json: { total: 1 } } },
        { request: get('/messages/{{message}}'), expect: { status: 200, json: { id: '{{message}}', delivery_counts: { delivered: 1 } } } },
        { request: get('/messages?limit=100'), expect: { status: 200, json: { limit: 100, offset: 0 } } },
      ],
    },
    {
      name: 'a webhook the target refuses is recorded as failed with its status; a removed channel is gone',
      covers,
      steps: [
        { request: post('/channels', { kind: 'webhook', target: '/no-such-receiver' }), expect: { status: 201 }, capture: { hook: 'id' } },
        { request: post('/messages', { text, channel_ids: ['{{hook}}'] }), expect: { status: 201, json: { subject: null, delivery_counts: { delivered: 0, failed: 1, not_configured: 0 } } }, capture: { message: 'id' } },
        { request: get('/messages/{{message}}/deliveries/{{hook}}'), expect: { status: 200, json: { status: 'failed', http_status: 404 } } },
        { request: { method: 'DELETE', path: '/channels/{{hook}}' }, expect: { status: 204 } },
        { request: { method: 'DELETE', path: '/channels/{{hook}}' }, expect: { status: 404, json: { error: { code: 'NOT_FOUND' } } } },
        { request: post('/messages', { text, channel_ids: ['{{hook}}'] }), expect: { status: 422, json: { error: { code: 'REFERENCE_NOT_FOUND' } } } },
        { request: get('/channels?limit=100'), expect: { status: 200, json: { limit: 100 } } },
      ],
    },
    {
      name: 'targets are checked: a webhook only to http(s) or a path of the droplet, an email to an address',
      covers,
      steps: [
        { request: post('/channels', { kind: 'webhook', target: 'file:///etc/passwd' }), expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: post('/channels', { kind: 'webhook', target: '//elsewhere.example/hook' }), expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: post('/channels', { kind: 'email', target: 'not an address' }), expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: post('/inbox', { text: 'posted by hand' }), expect: { status: 201, json: { body: { text: 'posted by hand' } } } },
      ],
    },
    {
      name: 'the hub needs the API token',
      covers,
      steps: [{ request: post('/messages', { text }), expect: { status: 401, json: { error: { code: 'UNAUTHORIZED' } } }, auth: false }],
    },
  ];
}

export const NOTIFICATION_HUB: Archetype = {
  kind: 'notification-hub',
  title: 'Notification hub',
  triggers: [/\bnotification (?:hub|service|router|dispatcher|center|centre|gateway)\b/, /\bnotif(?:y|ication)\b.*\b(?:email|slack|webhook|channel)\b/, /\bfan(?:s|ned|ning)? out (?:message|notification|alert|event)/, /\bwebhook (?:dispatcher|sender|fan)/, /\b(?:send|deliver)(?:s|ing)? (?:alert|notification)s? (?:to|by|over|via)\b/],
  vocabulary: new Set(['notification', 'notify', 'notifier', 'hub', 'message', 'channel', 'email', 'mail', 'slack', 'webhook', 'fan', 'out', 'alert', 'delivery', 'deliver', 'send', 'subscriber', 'recipient', 'inbox', 'dispatch']),
  paths: ['channels', 'messages', 'inbox'],
  settings: { delivery_timeout_ms: 5000, max_channels: 1000, max_messages: 100_000, max_inbox: 1000 },
  variables: [
    { name: 'NOTIFY_DELIVERY_TIMEOUT_MS', setting: 'delivery_timeout_ms', comment: 'Milliseconds a delivery may take before it is recorded as failed.' },
    { name: 'NOTIFY_MAX_MESSAGES', setting: 'max_messages', comment: 'Messages kept at most.' },
    { name: 'SLACK_WEBHOOK_URL', setting: 'slack_webhook_url', comment: 'A Slack incoming webhook: slack channels are delivered through it; unset, their deliveries say not_configured.' },
    { name: 'EMAIL_WEBHOOK_URL', setting: 'email_webhook_url', comment: 'An HTTP mail relay taking {to, subject, text}: email channels are delivered through it; unset, not_configured.' },
  ],
  capabilities: ['notification_fan_out', 'webhook_delivery'],
  supportedOperations: ['add_channel', 'list_channels', 'remove_channel', 'send_message', 'list_messages', 'get_message', 'get_delivery', 'receive_webhook', 'list_inbox'],
  endpoints: ENDPOINTS,
  limits: [
    'send email: it speaks no SMTP; an email delivery goes out only through `EMAIL_WEBHOOK_URL` (an HTTP mail relay), and is recorded as `not_configured` without it;',
    "post to Slack by itself: a slack delivery goes out only through `SLACK_WEBHOOK_URL` (a Slack incoming webhook), and is recorded as `not_configured` without it;",
    'retry a failed delivery: the record says why it failed, and sending the message again is up to the caller.',
  ],
  spec,
  openApi,
  scenarios,
};
