/** Acceptance scenarios: the file's guard, the subset match, and a run against a real droplet on loopback. */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAcceptanceFile, type AcceptanceScenario } from '../../src/domain/acceptance.js';
import { freePort } from '../../src/sandbox/ports.js';
import { runAcceptance, subsetMismatch } from '../../src/verify/acceptance.js';

const TOKEN = 'droplet-token-123';

/** The issue's own example, as an author would write it. */
const BOOKMARKS = {
  scenarios: [
    {
      name: 'a bookmark keeps its url and tags',
      covers: 'stores links with tags',
      steps: [
        {
          request: { method: 'POST', path: '/bookmarks', body: { url: 'https://example.org', tags: ['x'] } },
          expect: { status: 201, json: { url: 'https://example.org' } },
          capture: { id: 'id' },
        },
        { request: { method: 'GET', path: '/bookmarks/{{id}}' }, expect: { status: 200, json: { id: '{{id}}', tags: ['x'] } } },
      ],
    },
  ],
};

describe('parseAcceptanceFile', () => {
  it('accepts the documented format', () => {
    const parsed = parseAcceptanceFile(JSON.stringify(BOOKMARKS));
    expect(parsed).toEqual({ ok: true, file: BOOKMARKS });
  });

  it('refuses what is not the format, naming where', () => {
    expect(parseAcceptanceFile('{"scenarios": [')).toMatchObject({ ok: false, reason: expect.stringMatching(/^docs\/acceptance\.json is not JSON/) });
    expect(parseAcceptanceFile('{"scenarios": []}')).toMatchObject({ ok: false, reason: expect.stringContaining('scenarios') });
    const offOrigin = structuredClone(BOOKMARKS);
    offOrigin.scenarios[0]!.steps[1]!.request.path = '//evil.example/steal';
    expect(parseAcceptanceFile(JSON.stringify(offOrigin))).toEqual({
      ok: false,
      reason: 'docs/acceptance.json: scenarios.0.steps.1.request.path: must be a path on the droplet, starting with a single "/"',
    });
    const extra = { scenarios: [{ ...BOOKMARKS.scenarios[0], priority: 'high' }] };
    expect(parseAcceptanceFile(JSON.stringify(extra))).toMatchObject({ ok: false, reason: expect.stringContaining('scenarios.0') });
    const badMethod = structuredClone(BOOKMARKS) as { scenarios: { steps: { request: { method: string } }[] }[] };
    badMethod.scenarios[0]!.steps[0]!.request.method = 'TRACE';
    expect(parseAcceptanceFile(JSON.stringify(badMethod))).toMatchObject({ ok: false, reason: expect.stringContaining('scenarios.0.steps.0.request.method') });
  });
});

describe('subsetMismatch', () => {
  it('matches objects on the keys listed, recursively; arrays and scalars must be equal', () => {
    expect(subsetMismatch({ a: 1, b: { c: 'x' } }, { a: 1, b: { c: 'x', d: 2 }, e: 3 })).toBeNull();
    expect(subsetMismatch({ tags: ['x'] }, { tags: ['x'] })).toBeNull();
    expect(subsetMismatch({ tags: ['x'] }, { tags: ['x', 'y'] })).toBe('$.tags is ["x","y"], not ["x"]');
    expect(subsetMismatch({ b: { c: 'x' } }, { b: { c: 'y' } })).toBe('$.b.c is "y", not "x"');
    expect(subsetMismatch({ url: 'u' }, { link: 'u' })).toBe('$.url is missing');
    expect(subsetMismatch({ a: 1 }, [1])).toBe('$ is [1], not an object');
    expect(subsetMismatch(1, '1')).toBe('$ is "1", not 1');
  });
});

describe('runAcceptance against a droplet on loopback', () => {
  let droplet: FastifyInstance;
  let baseUrl: string;
  const bookmarks = new Map<number, { id: number; url: string; tags: string[] }>();

  beforeAll(async () => {
    droplet = Fastify();
    droplet.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== `Bearer ${TOKEN}`) await reply.code(401).send({ error: { code: 'UNAUTHORIZED', message: 'no', details: {} } });
    });
    droplet.post('/bookmarks', async (request, reply) => {
      const body = request.body as { url: string; tags?: string[] };
      const bookmark = { id: bookmarks.size + 1, url: body.url, tags: body.tags ?? [] };
      bookmarks.set(bookmark.id, bookmark);
      return reply.code(201).send(bookmark);
    });
    droplet.get('/bookmarks/:id', async (request, reply) => {
      const found = bookmarks.get(Number((request.params as { id: string }).id));
      return found ?? reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no', details: {} } });
    });
    // Echoes the raw path, to see how captured values are put into paths.
    droplet.get('/echo/*', async (request) => ({ url: request.url }));
    await droplet.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(droplet.server.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await droplet.close();
  });

  const run = (scenarios: AcceptanceScenario[], token = TOKEN) =>
    runAcceptance(baseUrl, scenarios, { token, timeoutMs: 2_000, signal: new AbortController().signal });

  it('passes the example: create, capture the id, read it back with the captured id in path and expectation', async () => {
    const file = parseAcceptanceFile(JSON.stringify(BOOKMARKS));
    if (!file.ok) throw new Error(file.reason);
    expect(await run(file.file.scenarios)).toEqual([
      { name: 'a bookmark keeps its url and tags', covers: 'stores links with tags', passed: true, failedStep: null, expected: '', got: '' },
    ]);
  });

  it('names the failing step, what it expected and what it got', async () => {
    const [result] = await run([
      {
        name: 'a bookmark has a title',
        covers: 'titled links',
        steps: [
          { request: { method: 'POST', path: '/bookmarks', body: { url: 'https://a.example' } }, expect: { status: 201 }, capture: { id: 'id' } },
          { request: { method: 'GET', path: '/bookmarks/{{id}}' }, expect: { status: 200, json: { title: 'A' } } },
        ],
      },
    ]);
    expect(result).toMatchObject({ passed: false, failedStep: 2, got: '200: $.title is missing' });
    expect(result!.expected).toMatch(/^GET \/bookmarks\/\d+ answers 200 with \{"title":"A"\}$/);
  });

  it('sends the token unless a step says auth: false, and checks the status', async () => {
    const refused = { request: { method: 'GET' as const, path: '/bookmarks/1' }, expect: { status: 401 }, auth: false };
    expect((await run([{ name: 'strangers are refused', covers: 'private', steps: [refused] }]))[0]).toMatchObject({ passed: true });
    expect((await run([{ name: 'with the token it is not a 401', covers: 'private', steps: [{ ...refused, auth: true }] }]))[0]).toMatchObject({
      passed: false,
      failedStep: 1,
      got: expect.stringMatching(/^(200|404): /),
    });
  });

  it('fails clearly on a placeholder nothing captured, and on a capture of a field the answer lacks', async () => {
    const [unknown] = await run([{ name: 'x', covers: 'y', steps: [{ request: { method: 'GET', path: '/bookmarks/{{nope}}' }, expect: { status: 200 } }] }]);
    expect(unknown).toMatchObject({ passed: false, failedStep: 1, got: '{{nope}} was not captured by an earlier step' });
    const [missing] = await run([
      { name: 'x', covers: 'y', steps: [{ request: { method: 'POST', path: '/bookmarks', body: { url: 'u' } }, expect: { status: 201 }, capture: { ref: 'slug' } }] },
    ]);
    expect(missing).toMatchObject({ passed: false, failedStep: 1, expected: expect.stringContaining('with a field "slug" to capture') });
  });

  it('puts captured values into paths encoded, and keeps their type in bodies and expectations', async () => {
    const [result] = await run([
      {
        name: 'encoding',
        covers: 'paths',
        steps: [
          { request: { method: 'POST', path: '/bookmarks', body: { url: 'a b/c?d', tags: [] } }, expect: { status: 201 }, capture: { id: 'id', url: 'url' } },
          { request: { method: 'GET', path: '/echo/{{url}}' }, expect: { status: 200, json: { url: '/echo/a%20b%2Fc%3Fd' } } },
          { request: { method: 'GET', path: '/bookmarks/{{id}}' }, expect: { status: 200, json: { id: '{{id}}', url: '{{url}}' } } },
        ],
      },
    ]);
    expect(result).toMatchObject({ passed: true });
  });

  it('reports a droplet that does not answer', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const [result] = await runAcceptance(closed, BOOKMARKS.scenarios as AcceptanceScenario[], { token: TOKEN, timeoutMs: 1_000, signal: new AbortController().signal });
    expect(result).toMatchObject({ passed: false, failedStep: 1, got: expect.stringMatching(/^no answer/) });
  });
});
