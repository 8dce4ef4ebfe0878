/**
 * The locked door, over every route the app serves (as `trackServedRoutes` recorded them
 * while they registered, so a route added tomorrow is covered without touching this file)
 * and over the WebSocket stream on real loopback: no token, a wrong one, the right one.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { servedRoutesOf, tokenMatches, type ServedRoute } from '../../src/http/auth.js';
import { SignedApprovalLinkRedeemer } from '../../src/pipeline/approval-links.js';
import { createBuildFileService } from '../../src/pipeline/build-files.js';
import { EmbeddedFleetRegistry } from '../../src/registry/embedded-fleet-registry.js';
import { GitRepositoryHistory } from '../../src/repo/history.js';
import { SqliteApprovalLinkLedger } from '../../src/store/approval-links.js';
import { RegistryEntryStore } from '../../src/store/registry-entries.js';
import { listen, startsTestApps, TestBuilds, type TestAppOverrides } from '../support/http-app.js';
import { UpgradeRefusedError, collectStream } from '../support/ws-client.js';
import { expectUdcError } from '../support/udc-error.js';

const TOKEN = 'right-api-token-6d1c0a9e42';
const WRONG = 'wrong-api-token-0f3b7c5d18';
const REGISTRY = 'registry-peer-token-a81c3e';
const DROPLETS = 'droplet-fleet-token-44b0d9';
const INTENT = 'Build a service that stores short notes and lists them newest first.';
const start = startsTestApps();

/** Every optional route family switched on: builds' files, the fleet registry, approval links. */
async function fullApp(overrides: TestAppOverrides = {}) {
  const builds = new TestBuilds();
  const { build_id: buildId } = await builds.submit({ architectIntent: INTENT, approvalMode: 'auto', autoDeploy: true });
  const test = await start({
    builds,
    apiToken: TOKEN,
    buildFiles: createBuildFileService({ store: builds.store, history: new GitRepositoryHistory() }),
    fleetRegistry: new EmbeddedFleetRegistry(new RegistryEntryStore(builds.db), { defaultTtlSeconds: 90 }),
    approvalLinks: new SignedApprovalLinkRedeemer({ key: Buffer.from('a test key of thirty-two bytes!!'), builds: builds.service, ledger: new SqliteApprovalLinkLedger(builds.db) }),
    ...overrides,
  });
  await test.app.ready();
  return { ...test, buildId };
}

/** A concrete URL for a route pattern: path parameters and wildcards filled with plausible values. */
function urlOf(route: ServedRoute, buildId: string): string {
  return route.url.replace(/:id\b/g, buildId).replace(/:([A-Za-z_]+)/g, 'sample-$1').replace(/\*$/, 'README.md');
}

type Kind = 'public' | 'signed-link' | 'registry' | 'api';

function kindOf(route: ServedRoute): Kind {
  const policy = route.auth();
  if (policy === 'public' || policy === 'signed-link' || policy === 'registry') return policy;
  // The health checks, public by name (auth.ts PUBLIC_ROUTES), for GET and HEAD only.
  if (['/health', '/executor/health', '/registry/health'].includes(route.url) && ['GET', 'HEAD'].includes(route.method)) return 'public';
  return 'api';
}

function call(app: Awaited<ReturnType<typeof fullApp>>['app'], route: ServedRoute, url: string, token?: string) {
  const withBody = ['POST', 'PUT', 'PATCH'].includes(route.method);
  return app.inject({
    method: route.method,
    url,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    ...(withBody && { payload: {} }),
  });
}

describe('auth over every route', () => {
  it('refuses every API route without the token or with a wrong one, and lets the right one through', async () => {
    const { app, buildId } = await fullApp();
    const routes = servedRoutesOf(app);
    // The families this test must see, or it proves nothing about them.
    const seen = new Set(routes.map((route) => `${route.method} ${route.url}`));
    for (const expected of ['POST /executor/build-droplet', 'GET /executor/builds/:id/stream', 'GET /executor/builds/:id/files', 'POST /registry/register', 'GET /docs/json', 'GET /health', 'POST /message']) {
      expect(seen, expected).toContain(expected);
    }
    expect(routes.some((route) => route.auth() === 'signed-link')).toBe(true);

    const checked: Record<Kind, number> = { public: 0, 'signed-link': 0, registry: 0, api: 0 };
    for (const route of routes) {
      const url = urlOf(route, buildId);
      const label = `${route.method} ${route.url}`;
      const kind = kindOf(route);
      checked[kind] += 1;
      const [none, wrong, right] = [await call(app, route, url), await call(app, route, url, WRONG), await call(app, route, url, TOKEN)];
      if (kind === 'public') {
        expect.soft(none.statusCode, label).not.toBe(401);
        expect.soft(wrong.statusCode, label).not.toBe(401);
      } else if (kind === 'signed-link') {
        // The link is the credential: the bearer header changes nothing.
        expect.soft([wrong.statusCode, right.statusCode], label).toEqual([none.statusCode, none.statusCode]);
      } else {
        // API and registry routes alike: only API_TOKEN is set here, so both need it.
        expect.soft(none.statusCode, label).toBe(401);
        expect.soft(wrong.statusCode, label).toBe(401);
        if (route.method !== 'HEAD') {
          expectUdcError(none, 401, 'UNAUTHORIZED');
          expectUdcError(wrong, 401, 'UNAUTHORIZED');
        }
      }
      expect.soft(right.statusCode, label).not.toBe(401);
    }
    expect(checked.api).toBeGreaterThan(20);
    expect(checked.public).toBeGreaterThan(3);
    expect(checked.registry).toBeGreaterThan(3);
  });

  it('opens the registry to its own tokens only, and droplets only for reads', async () => {
    const { app, buildId } = await fullApp({ registryToken: REGISTRY, dropletToken: DROPLETS });
    for (const route of servedRoutesOf(app)) {
      const kind = kindOf(route);
      if (kind === 'public' || kind === 'signed-link') continue;
      const url = urlOf(route, buildId);
      const label = `${route.method} ${route.url}`;
      const asPeer = await call(app, route, url, REGISTRY);
      const asDroplet = await call(app, route, url, DROPLETS);
      if (kind === 'api') {
        expect.soft([asPeer.statusCode, asDroplet.statusCode], label).toEqual([401, 401]);
        continue;
      }
      expect.soft(asPeer.statusCode, label).not.toBe(401);
      const read = route.method === 'GET' || route.method === 'HEAD';
      if (read) expect.soft(asDroplet.statusCode, label).not.toBe(401);
      else expect.soft(asDroplet.statusCode, label).toBe(401);
    }
  });

  it('never takes ?token= on plain HTTP, the stream route included', async () => {
    const { app, buildId } = await fullApp();
    expectUdcError(await app.inject({ method: 'GET', url: `/executor/builds?token=${TOKEN}` }), 401, 'UNAUTHORIZED');
    expectUdcError(await app.inject({ method: 'GET', url: `/executor/builds/${buildId}/stream?token=${TOKEN}` }), 401, 'UNAUTHORIZED');
    expectUdcError(await app.inject({ method: 'GET', url: `/executor/builds/${buildId}/stream`, headers: { authorization: `Bearer ${TOKEN}` } }), 426, 'UPGRADE_REQUIRED');
  });

  it('refuses a route that declares an auth policy it does not know', async () => {
    const { app } = await start({ apiToken: TOKEN });
    // A typo must not fall back to some policy silently.
    const added = (async () => {
      app.get('/typo', { config: { auth: 'publik' as 'public' } }, async () => ({}));
      await app.ready();
    })();
    await expect(added).rejects.toThrow(/unknown auth policy "publik"/);
  });
});

describe('the WebSocket stream', () => {
  async function streamSetup(logger: TestAppOverrides['logger'] = false) {
    const { app, builds, buildId } = await fullApp({ logger });
    await builds.begin(buildId);
    await builds.completeBuild(buildId);
    const base = await listen(app);
    return { url: `${base}/executor/builds/${buildId}/stream`, base };
  }

  async function refusal(url: string, headers?: Record<string, string>): Promise<number> {
    const error = await collectStream(url, { ...(headers && { headers }) }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UpgradeRefusedError);
    return (error as UpgradeRefusedError).status;
  }

  it('refuses no token and a wrong one before the upgrade; streams with the right one in the header or in ?token=', async () => {
    const { url, base } = await streamSetup();
    expect(await refusal(url)).toBe(401);
    expect(await refusal(url, { authorization: `Bearer ${WRONG}` })).toBe(401);
    expect(await refusal(`${url}?token=${WRONG}`)).toBe(401);
    // The header wins: a wrong header is not rescued by a right query token.
    expect(await refusal(`${url}?token=${TOKEN}`, { authorization: `Bearer ${WRONG}` })).toBe(401);
    // ?token= opens the stream route only, not any route an upgrade is sent to.
    expect(await refusal(`${base}/executor/builds?token=${TOKEN}`)).toBe(401);

    for (const opened of [await collectStream(url, { headers: { authorization: `Bearer ${TOKEN}` } }), await collectStream(`${url}?token=${TOKEN}&after=0`)]) {
      expect(opened.closeCode).toBe(1000);
      expect((opened.messages[0] as { type: string }).type).toBe('snapshot');
    }
  });

  it('keeps a ?token= out of the log, accepted or refused', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString('utf8')), done()) }));
    const { url } = await streamSetup(logger);
    await collectStream(`${url}?token=${TOKEN}`);
    expect(await refusal(`${url}?token=${WRONG}`)).toBe(401);
    // The query parser decodes `%74oken` to `token`: the mask must too.
    expect(await refusal(`${url}?%74oken=${WRONG}-encoded`)).toBe(401);
    const log = lines.join('');
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(WRONG);
    // The refused upgrade's request line is there, its token masked.
    expect(log).toMatch(/"url":"\/executor\/builds\/[^"]+\/stream\?token=\[REDACTED\]"/);
  });
});

describe('tokenMatches', () => {
  it('matches only the same token, whatever the lengths', () => {
    expect(tokenMatches(TOKEN, TOKEN)).toBe(true);
    expect(tokenMatches(WRONG, TOKEN)).toBe(false);
    // Different lengths compare through fixed-size digests (timingSafeEqual would throw on raw buffers).
    expect(tokenMatches(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(tokenMatches('', TOKEN)).toBe(false);
    expect(tokenMatches(TOKEN.slice(0, -1), TOKEN)).toBe(false);
  });
});
