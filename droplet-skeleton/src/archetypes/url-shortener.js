// @ts-check
// URL shortener: POST /links makes a short code for a URL, GET /:code redirects to it
// (302, public: a browser sends no token) and counts the click, GET /links/:code reads
// the count. Links live in DATA_DIR/links.json.
import { randomInt } from 'node:crypto';
import { HttpError } from '../errors.js';
import { KeyedState } from './keyed-state.js';
import { numberSetting } from './settings.js';

/** @typedef {{ id: string, url: string, clicks: number, created_at: string, last_clicked_at: string | null }} Link */

const CODE = { type: 'string', pattern: '^[A-Za-z0-9_-]{3,64}$' };
const URL_SCHEMA = { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2000 };
const ALPHABET = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** First segments the droplet's other routes own: never a code. */
const TAKEN_PATHS = ['links', 'health', 'capabilities', 'state', 'dependencies', 'message'];
const codeParams = { type: 'object', required: ['code'], properties: { code: { type: 'string', minLength: 1, maxLength: 200 } } };
const linkBody = { type: 'object', additionalProperties: false, required: ['url'], properties: { url: URL_SCHEMA, code: CODE } };
const pageQuery = {
  type: 'object',
  additionalProperties: false,
  // Query values are strings (types are never coerced): checked as text, read as numbers.
  properties: { limit: { type: 'string', pattern: '^([1-9][0-9]?|100)$' }, offset: { type: 'string', pattern: '^(0|[1-9][0-9]*)$' } },
};

export const endpoints = [
  { method: 'POST', path: '/links', description: 'Shorten a URL: a code of its own or one chosen.' },
  { method: 'GET', path: '/links', description: 'List short links with their click counts.' },
  { method: 'GET', path: '/links/:code', description: 'One short link and its click count.' },
  { method: 'GET', path: '/:code', description: 'Redirect (302) to the link, counting the click. Public.' },
];
export const publicRoutes = ['/:code'];

/**
 * @param {import('./index.js').Settings} planned
 * @param {import('./index.js').Env} env
 */
export function settingsFrom(planned, env) {
  return {
    code_length: numberSetting({ planned, env, setting: 'code_length', min: 4, max: 32, integer: true }),
    max_links: numberSetting({ planned, env, setting: 'max_links', min: 1, max: 1000000, integer: true }),
  };
}

/** Only web addresses: a short link never sends anyone to `javascript:` or a file. @param {string} url */
export function isWebUrl(url) {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '';
  } catch {
    return false;
  }
}

/** @param {number} length */
function randomCode(length) {
  let code = '';
  for (let i = 0; i < length; i += 1) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** @param {Link} link */
const view = ({ id, ...rest }) => ({ code: id, ...rest });

/**
 * @param {import('fastify').FastifyInstance} app
 * @param {import('./index.js').ArchetypeContext} context
 */
export function register(app, { settings, dataDir, now }) {
  /** @type {KeyedState<Link>} */
  const links = new KeyedState(dataDir, 'links');
  const codeLength = Number(settings.code_length);
  const maxLinks = Number(settings.max_links);
  /** @param {string} code */
  const missing = (code) => new HttpError(404, 'NOT_FOUND', 'No short link has the code "' + code.slice(0, 64) + '".', { code: code.slice(0, 64) });
  /** @param {import('fastify').FastifyRequest} request */
  const codeOf = (request) => /** @type {{ code: string }} */ (request.params).code;

  app.post('/links', { schema: { body: linkBody } }, async (request, reply) => {
    const { url, code: chosen } = /** @type {{ url: string, code?: string }} */ (request.body);
    if (!isWebUrl(url)) throw new HttpError(400, 'VALIDATION_FAILED', 'url must be an http or https address.', { field: 'url' });
    const link = await links.change((entries) => {
      if (entries.size >= maxLinks) throw new HttpError(409, 'CAPACITY_REACHED', 'The shortener holds ' + maxLinks + ' links already.', { limit: maxLinks });
      let code = chosen ?? randomCode(codeLength);
      while (chosen === undefined && entries.has(code)) code = randomCode(codeLength);
      if (entries.has(code) || TAKEN_PATHS.includes(code)) throw new HttpError(409, 'CODE_TAKEN', 'The code "' + code + '" is taken.', { code });
      /** @type {Link} */
      const created = { id: code, url, clicks: 0, created_at: new Date(now()).toISOString(), last_clicked_at: null };
      entries.set(code, created);
      return created;
    });
    return reply.code(201).send(view(link));
  });

  app.get('/links', { schema: { querystring: pageQuery } }, async (request) => {
    const query = /** @type {{ limit?: string, offset?: string }} */ (request.query);
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    const offset = query.offset === undefined ? 0 : Number(query.offset);
    const all = links.values();
    return { items: all.slice(offset, offset + limit).map(view), total: all.length, limit, offset };
  });

  app.get('/links/:code', { schema: { params: codeParams } }, async (request) => {
    const link = links.get(codeOf(request));
    if (!link) throw missing(codeOf(request));
    return view(link);
  });

  app.get('/:code', { schema: { params: codeParams } }, async (request, reply) => {
    const code = codeOf(request);
    const link = await links.change((entries) => {
      const found = entries.get(code);
      if (!found) return undefined;
      const clicked = { ...found, clicks: found.clicks + 1, last_clicked_at: new Date(now()).toISOString() };
      entries.set(code, clicked);
      return clicked;
    });
    if (!link) throw missing(code);
    // The body says it too, for clients that do not follow redirects.
    return reply.code(302).header('location', link.url).send({ code, url: link.url });
  });

  return { count: () => links.size, flushed: () => links.flushed() };
}
