/**
 * URL shortener: `POST /links` gives a URL a short code (its own or a chosen one),
 * `GET /{code}` redirects there (302, public: a browser sends no token) and counts the
 * click, `GET /links/{code}` and `GET /links` read the counts.
 */
import type { AcceptanceScenario } from '../../../domain/acceptance.js';
import type { Archetype, ArchetypePlan, OpenApiPart } from './archetype.js';
import { INVALID, UNAUTHORIZED, answer, body, errorResponse, json, pathParameter, queryParameter, ref } from './openapi-parts.js';

const CODE_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9_-]{3,64}$', description: 'The short code: the path of the short link.' };
const URL_SCHEMA = { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000, description: 'Where the short link leads: http or https only.' };
const PATH_CODE = { type: 'string', minLength: 1, maxLength: 200 };
const stamp = { type: 'string', format: 'date-time' };

const ENDPOINTS = [
  { method: 'POST', path: '/links', description: 'Shorten a URL: a code of its own or one chosen.' },
  { method: 'GET', path: '/links', description: 'List short links with their click counts.' },
  { method: 'GET', path: '/links/:code', description: 'One short link and its click count.' },
  { method: 'GET', path: '/:code', description: 'Redirect (302) to the link, counting the click. Public.' },
];

function spec(plan: ArchetypePlan): string {
  return `\`POST /links\` with \`{"url"}\` (http or https only, at most 2000 characters) answers 201
\`{code, url, clicks: 0, created_at, last_clicked_at: null}\` with a random code of
${String(plan.settings.code_length)} letters and digits; \`{"url", "code"}\` asks for a code of one's own
(3..64 of \`A-Z a-z 0-9 _ -\`), 409 \`CODE_TAKEN\` when it is taken or names one of the droplet's
own paths. \`GET /{code}\` is public: it answers 302 with \`Location\` set to the URL (and
\`{code, url}\` as the body), counts the click and sets \`last_clicked_at\`; an unknown code is
404. \`GET /links/{code}\` reads one link and its \`clicks\`; \`GET /links?limit=&offset=\` lists
them, oldest first (\`{items, total, limit, offset}\`). Links are kept in \`DATA_DIR/links.json\`
(atomic writes), at most ${String(plan.settings.max_links)} (409 \`CAPACITY_REACHED\` beyond).`;
}

function openApi(_plan: ArchetypePlan): OpenApiPart {
  const code = pathParameter('code', PATH_CODE, 'The short code.');
  const link = answer('The short link and its clicks.', 'Link');
  const missing = errorResponse('No short link has that code.');
  return {
    paths: {
      '/links': {
        post: {
          operationId: 'shorten_url', summary: 'Shorten a URL.', requestBody: body('LinkInput', { url: 'https://example.org/a/long/page?ref=docs' }),
          responses: { '201': link, '400': INVALID, '401': UNAUTHORIZED, '409': errorResponse('The code is taken, or the shortener is full.') },
        },
        get: {
          operationId: 'list_links', summary: 'List short links, oldest first.',
          parameters: [
            queryParameter('limit', { type: 'integer', minimum: 1, maximum: 100, default: 50 }, 'Page size.'),
            queryParameter('offset', { type: 'integer', minimum: 0, default: 0 }, 'Links to skip.'),
          ],
          responses: { '200': answer('A page of links.', 'LinkPage'), '400': INVALID, '401': UNAUTHORIZED },
        },
      },
      '/links/{code}': {
        parameters: [code],
        get: { operationId: 'get_link', summary: 'One short link and its click count.', responses: { '200': link, '401': UNAUTHORIZED, '404': missing } },
      },
      '/{code}': {
        parameters: [code],
        get: {
          operationId: 'follow_link', summary: 'Redirect to the link and count the click.', security: [],
          responses: {
            '302': { description: 'To the link.', headers: { Location: { description: 'The URL.', schema: URL_SCHEMA } }, content: json(ref('Redirect')) },
            '404': missing,
          },
        },
      },
    },
    schemas: {
      LinkInput: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: URL_SCHEMA, code: CODE_SCHEMA } },
      Link: {
        type: 'object', required: ['code', 'url', 'clicks', 'created_at', 'last_clicked_at'],
        properties: { code: CODE_SCHEMA, url: URL_SCHEMA, clicks: { type: 'integer', minimum: 0 }, created_at: stamp, last_clicked_at: { anyOf: [stamp, { type: 'null' }] } },
      },
      LinkPage: {
        type: 'object', required: ['items', 'total', 'limit', 'offset'],
        properties: { items: { type: 'array', items: ref('Link') }, total: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 100 }, offset: { type: 'integer', minimum: 0 } },
      },
      Redirect: { type: 'object', required: ['code', 'url'], properties: { code: CODE_SCHEMA, url: URL_SCHEMA } },
    },
  };
}

function scenarios(plan: ArchetypePlan): AcceptanceScenario[] {
  const covers = plan.covers;
  const url = 'https://example.org/a/long/page?ref=acceptance';
  const chosen = 'acceptance-link';
  return [
    {
      name: 'a short link redirects to its URL, and every click is counted',
      covers,
      steps: [
        { request: { method: 'POST', path: '/links', body: { url } }, expect: { status: 201, json: { url, clicks: 0, last_clicked_at: null } }, capture: { code: 'code' } },
        { request: { method: 'GET', path: '/{{code}}' }, expect: { status: 302, json: { code: '{{code}}', url } }, auth: false },
        { request: { method: 'GET', path: '/{{code}}' }, expect: { status: 302, json: { url } }, auth: false },
        { request: { method: 'GET', path: '/links/{{code}}' }, expect: { status: 200, json: { code: '{{code}}', url, clicks: 2 } } },
        { request: { method: 'GET', path: '/links?limit=100&offset=0' }, expect: { status: 200, json: { limit: 100, offset: 0 } } },
      ],
    },
    {
      name: 'a chosen code is kept; a taken code, a URL that is not http(s) and an unknown code are refused',
      covers,
      steps: [
        { request: { method: 'POST', path: '/links', body: { url, code: chosen } }, expect: { status: 201, json: { code: chosen, url } } },
        { request: { method: 'POST', path: '/links', body: { url: 'https://example.org/other', code: chosen } }, expect: { status: 409, json: { error: { code: 'CODE_TAKEN' } } } },
        { request: { method: 'POST', path: '/links', body: { url: 'javascript:alert(1)' } }, expect: { status: 400, json: { error: { code: 'VALIDATION_FAILED' } } } },
        { request: { method: 'GET', path: `/${chosen}` }, expect: { status: 302, json: { code: chosen, url } }, auth: false },
        { request: { method: 'GET', path: '/no-such-link' }, expect: { status: 404, json: { error: { code: 'NOT_FOUND' } } }, auth: false },
      ],
    },
    {
      name: 'making and reading short links needs the API token',
      covers,
      steps: [
        { request: { method: 'POST', path: '/links', body: { url } }, expect: { status: 401, json: { error: { code: 'UNAUTHORIZED' } } }, auth: false },
        { request: { method: 'GET', path: `/links/${chosen}` }, expect: { status: 401, json: { error: { code: 'UNAUTHORIZED' } } }, auth: false },
      ],
    },
  ];
}

export const URL_SHORTENER: Archetype = {
  kind: 'url-shortener',
  title: 'URL shortener',
  triggers: [/\b(?:url|link) shortener/, /\bshorten(?:s|ed|ing)? (?:url|link)/, /\bshort (?:url|link)/, /\bshortener\b/, /\blink shortening/],
  vocabulary: new Set(['url', 'link', 'short', 'shortener', 'shorten', 'click', 'redirect', 'code', 'visit', 'count', 'counter', 'alias', 'slug']),
  paths: ['links'],
  settings: { code_length: 7, max_links: 100_000 },
  variables: [],
  capabilities: ['url_shortening', 'click_counting'],
  supportedOperations: ['shorten_url', 'list_links', 'get_link', 'follow_link'],
  endpoints: ENDPOINTS,
  spec,
  openApi,
  scenarios,
};
