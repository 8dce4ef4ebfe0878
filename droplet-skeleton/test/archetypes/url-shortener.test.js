// @ts-check
// The URL shortener: codes made or chosen, public redirects that count clicks, http(s)
// only, and links that survive a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWebUrl } from '../../src/archetypes/url-shortener.js';
import { AUTH, ISO_TIME, assertError, build, tempDataDir } from '../support/app.js';

const URL = 'https://example.org/a/long/page?x=1';

/** @param {import('fastify').FastifyInstance} app @param {Record<string, unknown>} payload */
const shorten = (app, payload) => app.inject({ method: 'POST', url: '/links', headers: AUTH, payload });

test('POST /links makes a code; GET /:code redirects there without a token and counts each click', async (t) => {
  const app = build(t);
  const created = await shorten(app, { url: URL });
  assert.equal(created.statusCode, 201, created.body);
  const link = created.json();
  assert.match(link.code, /^[A-Za-z0-9]{7}$/);
  assert.deepEqual({ ...link, created_at: undefined }, { code: link.code, url: URL, clicks: 0, created_at: undefined, last_clicked_at: null });
  for (let i = 0; i < 2; i += 1) {
    const followed = await app.inject({ method: 'GET', url: '/' + link.code });
    assert.equal(followed.statusCode, 302);
    assert.equal(followed.headers.location, URL);
    assert.deepEqual(followed.json(), { code: link.code, url: URL });
  }
  const read = (await app.inject({ method: 'GET', url: '/links/' + link.code, headers: AUTH })).json();
  assert.equal(read.clicks, 2);
  assert.match(read.last_clicked_at, ISO_TIME);
});

test('a chosen code is kept; taken codes, the droplet\'s own paths and bad codes are refused', async (t) => {
  const app = build(t);
  assert.equal((await shorten(app, { url: URL, code: 'docs' })).json().code, 'docs');
  assertError(await shorten(app, { url: URL, code: 'docs' }), 409, 'CODE_TAKEN');
  assertError(await shorten(app, { url: URL, code: 'links' }), 409, 'CODE_TAKEN');
  assertError(await shorten(app, { url: URL, code: 'health' }), 409, 'CODE_TAKEN');
  for (const code of ['ab', 'has space', 'a/b', 'x'.repeat(65)]) assertError(await shorten(app, { url: URL, code }), 400, 'VALIDATION_FAILED');
});

test('only http and https URLs are shortened', async (t) => {
  const app = build(t);
  for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'ftp://example.org/x', 'not a url', 'https://', '']) {
    assertError(await shorten(app, { url }), 400, 'VALIDATION_FAILED');
  }
  assert.equal(isWebUrl('http://localhost:3000/x'), true);
  assert.equal(isWebUrl('data:text/html,hi'), false);
});

test('an unknown code is 404 without naming a route; making and reading links needs the token', async (t) => {
  const app = build(t);
  const unknown = assertError(await app.inject({ method: 'GET', url: '/nothing-here' }), 404, 'NOT_FOUND');
  assert.deepEqual(unknown.details, { code: 'nothing-here' });
  assertError(await app.inject({ method: 'POST', url: '/links', payload: { url: URL } }), 401, 'UNAUTHORIZED');
  assertError(await app.inject({ method: 'GET', url: '/links' }), 401, 'UNAUTHORIZED');
  assertError(await app.inject({ method: 'GET', url: '/links/abc' }), 401, 'UNAUTHORIZED');
});

test('GET /links pages through the links, oldest first', async (t) => {
  const app = build(t);
  for (const code of ['one', 'two', 'three']) await shorten(app, { url: URL, code });
  const page = (await app.inject({ method: 'GET', url: '/links?limit=2&offset=1', headers: AUTH })).json();
  assert.deepEqual({ ...page, items: page.items.map((/** @type {{ code: string }} */ link) => link.code) }, { items: ['two', 'three'], total: 3, limit: 2, offset: 1 });
  assertError(await app.inject({ method: 'GET', url: '/links?limit=0', headers: AUTH }), 400, 'VALIDATION_FAILED');
});

test('links and their clicks survive a restart over the same DATA_DIR', async (t) => {
  const dataDir = tempDataDir(t);
  const first = build(t, { DATA_DIR: dataDir });
  await shorten(first, { url: URL, code: 'kept' });
  await first.inject({ method: 'GET', url: '/kept' });
  await first.close();
  const second = build(t, { DATA_DIR: dataDir });
  assert.equal((await second.inject({ method: 'GET', url: '/links/kept', headers: AUTH })).json().clicks, 1);
  assert.equal((await second.inject({ method: 'GET', url: '/kept' })).headers.location, URL);
});
