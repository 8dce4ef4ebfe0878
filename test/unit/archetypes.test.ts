/**
 * Archetypes of the offline author: recognised from the intent's words (and plain record
 * intents left alone), their SPEC proof valid and complete, their droplet's own suite
 * green, and their acceptance scenarios and OpenAPI answers holding against the droplet
 * started for real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchetypeKind } from '../../src/authors/offline/archetypes/archetype.js';
import { archetypeOf } from '../../src/authors/offline/archetypes/index.js';
import { dropletFiles } from '../../src/authors/offline/files.js';
import { installedDropletDependencies } from '../../src/authors/offline/fastify-version.js';
import { planDroplet } from '../../src/authors/offline/plan.js';
import { acceptanceJson } from '../../src/authors/offline/proof/acceptance.js';
import { openApiJson } from '../../src/authors/offline/proof/openapi.js';
import { renderSpec } from '../../src/authors/offline/spec.js';
import { checkSpecProof } from '../../src/verify/spec-proof.js';
import { archetypeDroplet, type ArchetypeDroplet } from '../support/archetype-droplet.js';

const droplet = { dropletId: 31, name: 'archetype-droplet' };
const kindOf = (intent: string) => planDroplet(intent, droplet).archetype?.kind ?? null;

interface Case {
  kind: ArchetypeKind;
  /** The intent from the issue, built end to end. */
  intent: string;
  phrasings: string[];
  /** Scenario names the droplet must pass: what the intent asked for. */
  proves: RegExp[];
  /** A test of the archetype's own file in the droplet's suite, so the suite is seen to run it. */
  ownTest: string;
}

const CASES: Case[] = [
  {
    kind: 'rate-limiter',
    intent: 'Build a rate limiter service that other droplets call before hitting external APIs',
    phrasings: ['I need rate limiting for our outbound calls', 'Throttle requests to the payments API per client', 'A token bucket service for API quotas', 'Rate-limit calls per key'],
    proves: [/refused with 429/, /own bucket/, /default applies again/],
    ownTest: 'limits and spent buckets survive a restart over the same DATA_DIR',
  },
  {
    kind: 'url-shortener',
    intent: 'Build a URL shortener that counts clicks',
    phrasings: ['A service to shorten links and track how often they are visited', 'I want short URLs for our docs', 'link shortener with click counts'],
    proves: [/redirects to its URL, and every click is counted/, /taken code/],
    ownTest: 'links and their clicks survive a restart over the same DATA_DIR',
  },
  {
    kind: 'metrics',
    intent: 'A metrics service that ingests counters and reports aggregates',
    phrasings: ['Collect counters and metrics from every droplet', 'Ingest telemetry and show the average per hour', 'store time series data points and aggregate them by name'],
    proves: [/aggregated over a time range/],
    ownTest: 'points survive a restart over the same DATA_DIR',
  },
  {
    kind: 'scheduler',
    intent: 'Build a job scheduler that runs jobs at a given time',
    phrasings: ['A service for scheduling tasks to run later', 'I need a job queue with delayed jobs', 'cron-like scheduler for our droplets'],
    proves: [/listed as due, runs and is done/, /only forward/],
    ownTest: 'jobs and their states survive a restart over the same DATA_DIR',
  },
  {
    kind: 'service-registry',
    intent: 'Build a service registry where droplets register, send heartbeats and are looked up by name',
    phrasings: ['Service discovery for our droplets', 'A registry where instances send heartbeats and expire when silent', 'I need droplets to register themselves and find each other by name'],
    proves: [/looked up by name, keeps itself alive with heartbeats, and is gone once deregistered/, /default of \d+ s/],
    ownTest: 'a registration silent longer than its TTL expires: lookups, listings and heartbeats no longer see it',
  },
  {
    kind: 'notification-hub',
    intent: 'Build a notification hub that fans out messages to email and slack',
    phrasings: ['A service that sends alerts to slack and by email', 'I need a webhook dispatcher for our droplets', 'notification service for our team with email and webhooks'],
    proves: [/webhook to the droplet's own inbox is delivered/, /recorded as failed with its status/, /targets are checked/],
    ownTest: "a message fans out to every channel: a webhook to the droplet's own /inbox is delivered, email and slack are not_configured",
  },
];

describe('plain record intents stay records', () => {
  it.each([
    'Build a bookmark service that stores links with tags',
    'Build Analytics Engine for tracking droplet metrics and performance',
    'make me a thing for tracking my plants',
    'A recipe catalogue with ingredients and cooking times',
    'Track warehouses, products and stock levels per warehouse',
  ])('%s', (intent) => {
    const plan = planDroplet(intent, droplet);
    expect(plan.archetype).toBeUndefined();
    expect(plan.resources.length).toBeGreaterThan(0);
  });
});

describe.each(CASES)('the $kind archetype', ({ kind, intent, phrasings, proves, ownTest }) => {
  const plan = planDroplet(intent, droplet);
  let built: ArchetypeDroplet;

  beforeAll(() => {
    built = archetypeDroplet(plan);
  });
  afterAll(() => built?.remove());

  it('is recognised in the intent of the issue and in other phrasings, and covers what it serves', () => {
    expect(plan.archetype?.kind).toBe(kind);
    for (const phrasing of phrasings) expect(kindOf(phrasing), phrasing).toBe(kind);
    expect(plan.coverage.covered).toContain(plan.archetype!.covers);
    expect(plan.coverage.not_covered).toEqual([]);
  });

  it('has a SPEC section and a proof that checkSpecProof accepts, every business operation requested', async () => {
    const check = await checkSpecProof({ openapi: openApiJson(plan), acceptance: acceptanceJson(plan) });
    expect(check).toMatchObject({ ok: true });
    const spec = renderSpec(plan, []);
    expect(spec).toMatch(/^## .+$/m);
    expect(spec).toContain(plan.archetype!.covers);
    const notCovered = spec.slice(spec.indexOf('## Not covered'), spec.indexOf('## UDC compliance'));
    for (const limit of archetypeOf(kind).limits ?? []) expect(notCovered).toContain(limit);
  });

  it("ships its own code and tests and no other archetype's", () => {
    const paths = dropletFiles(plan, installedDropletDependencies()).map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining([`src/archetypes/${kind}.js`, `test/archetypes/${kind}.test.js`, 'src/archetypes/index.js']));
    const kinds = paths.flatMap((path) => /^(?:src|test)\/archetypes\/([a-z-]+?)(?:\.test)?\.js$/.exec(path)?.[1] ?? []);
    expect(kinds.filter((name) => !['index', 'keyed-state', 'settings', 'web-url'].includes(name) && name !== kind)).toEqual([]);
  });

  it('passes its own suite in one process', async () => {
    const stdout = await built.ownSuite();
    expect(stdout).toMatch(/^# fail 0$/m);
    expect(stdout).toMatch(/^# pass \d+$/m);
    expect(stdout).toMatch(new RegExp(`^ok \\d+ - ${ownTest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });

  it('passes its acceptance scenarios against the running droplet, every answer as documented', async () => {
    const { scenarios, openapi } = await built.prove();
    expect(scenarios.filter((scenario) => !scenario.passed)).toEqual([]);
    for (const name of proves) expect(scenarios.some((scenario) => name.test(scenario.name)), String(name)).toBe(true);
    expect(openapi.map((check) => [check.name, check.passed, check.got])).toEqual([
      ['openapi: every operation is exercised', true, expect.any(String)],
      ['openapi: answers match the documented schemas', true, expect.any(String)],
    ]);
  });
});
