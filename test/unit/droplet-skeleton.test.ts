/**
 * The droplet skeleton (droplet-skeleton/) against the Fastify installed here: its own
 * suite over a plan with every field kind, its schemas and samples against the
 * executor's definitions, and the app itself for references, lists, persistence and .env.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldSchema, isFilterable } from '../../src/authors/offline/field-schema.js';
import type { FieldPlan } from '../../src/authors/offline/fields.js';
import { dropletFiles } from '../../src/authors/offline/files.js';
import { installedDropletDependencies } from '../../src/authors/offline/fastify-version.js';
import { sample } from '../../src/authors/offline/samples.js';
import { SKELETON_DIR } from '../../src/authors/offline/skeleton.js';
import { freePort } from '../../src/sandbox/ports.js';
import { STOCK_PLAN, writeSkeletonDroplet } from '../support/skeleton-droplet.js';

const run = promisify(execFile);

interface InjectResponse {
  statusCode: number;
  json(): unknown;
}
interface DropletApp {
  inject(request: { method: string; url: string; payload?: unknown; headers?: Record<string, string> }): Promise<InjectResponse>;
  close(): Promise<void>;
}
interface SkeletonModules {
  buildApp(config: unknown): DropletApp;
  loadConfig(env: Record<string, string>): unknown;
}

const KINDS: FieldPlan[] = [
  { name: 'a', type: 'string', required: true, description: 'd' },
  { name: 'b', type: 'string', required: false, maxLength: 30, description: 'd' },
  { name: 'c', type: 'string', required: false, enum: ['x', 'y'], description: 'd' },
  ...(['url', 'email', 'datetime', 'date', 'integer', 'number', 'boolean', 'tags', 'reference'] as const).map(
    (type): FieldPlan => ({ name: type, type, required: false, description: `a ${type}`, ...(type === 'reference' ? { references: 'others' } : {}) }),
  ),
  { name: 'u2', type: 'url', required: false, maxLength: 99, description: 'd' },
];

describe('the skeleton agrees with the executor', () => {
  it('builds exactly the JSON schema fieldSchema gives, and filters exactly the fields isFilterable names, for every field kind', async () => {
    const skeleton = (await import(pathToFileURL(join(SKELETON_DIR, 'src/schemas.js')).href)) as {
      fieldSchema(field: FieldPlan): unknown;
      isFilterable(field: FieldPlan): boolean;
    };
    for (const field of KINDS) {
      expect(skeleton.fieldSchema(field), field.name).toEqual(fieldSchema(field));
      expect(skeleton.isFilterable(field), field.name).toBe(isFilterable(field));
    }
  });

  it('its test samples are the executor samples, variant for variant', async () => {
    const skeleton = (await import(pathToFileURL(join(SKELETON_DIR, 'test/support/samples.js')).href)) as {
      sample(resource: unknown, variant: 0 | 1): unknown;
    };
    const resource = { plural: 'things', singular: 'thing', fields: KINDS };
    for (const variant of [0, 1] as const) expect(skeleton.sample(resource, variant)).toEqual(sample(resource, variant));
  });

  it('gives byte-identical files for the same plan, with the plan as data in src/plan.json', () => {
    const files = dropletFiles(STOCK_PLAN, installedDropletDependencies());
    expect(JSON.stringify(dropletFiles(STOCK_PLAN, installedDropletDependencies()))).toBe(JSON.stringify(files));
    const plan = JSON.parse(files.find((file) => file.path === 'src/plan.json')!.content) as { resources: { fields: FieldPlan[] }[] };
    expect(plan.resources.map((resource) => resource.fields)).toEqual(STOCK_PLAN.resources.map((resource) => resource.fields));
    expect(files.some((file) => file.path.endsWith('tsconfig.json'))).toBe(false);
  });
});

describe('a skeleton droplet with every field kind and a reference', () => {
  let dir: string;
  let modules: SkeletonModules;
  const apps: DropletApp[] = [];
  const AUTH = { authorization: 'Bearer t' };

  beforeAll(async () => {
    dir = writeSkeletonDroplet(mkdtempSync(join(tmpdir(), 'skeleton-droplet-')));
    const load = (path: string) => import(pathToFileURL(join(dir, path)).href) as Promise<Record<string, unknown>>;
    modules = { ...(await load('src/app.js')), ...(await load('src/config.js')) } as unknown as SkeletonModules;
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  function app(dataDir: string): DropletApp {
    const built = modules.buildApp(modules.loadConfig({ LOG_LEVEL: 'silent', API_TOKEN: 't', DATA_DIR: dataDir }));
    apps.push(built);
    return built;
  }
  const post = (target: DropletApp, url: string, payload: unknown) => target.inject({ method: 'POST', url, payload, headers: AUTH });
  const get = async (target: DropletApp, url: string) => (await target.inject({ method: 'GET', url, headers: AUTH })).json() as Record<string, unknown>;

  it('passes its own suite, in one process', async () => {
    const { stdout } = await run(process.execPath, ['--test', 'test/index.js'], { cwd: dir, env: { PATH: process.env.PATH ?? '' } });
    expect(stdout).toMatch(/^# fail 0$/m);
    expect(Number(/^# pass (\d+)$/m.exec(stdout)?.[1])).toBeGreaterThanOrEqual(60);
    for (const name of ['POST, PUT and PATCH with an id of no warehouse are 422', 'filters on recorded_at by equality', 'records survive a restart']) {
      expect(stdout).toContain(name);
    }
  });

  it('refuses what the field kinds refuse, and a reference to no record with 422', async () => {
    const droplet = app(mkdtempSync(join(tmpdir(), 'skeleton-data-')));
    const bad = [{ website: 'not a url' }, { email: 'nobody' }, { active: 'yes' }, { tags: [''] }];
    for (const body of bad) expect((await post(droplet, '/warehouses', { name: 'W', ...body })).statusCode, JSON.stringify(body)).toBe(400);
    const warehouse = (await post(droplet, '/warehouses', { name: 'W', website: 'https://w.example', active: true })).json() as { id: string };
    const level = { warehouse_id: warehouse.id, quantity: 5, recorded_at: '2030-01-02T09:30:00Z', due_date: '2030-01-02' };
    for (const body of [{ quantity: 1.5 }, { recorded_at: '2030-01-02' }, { due_date: '2030-13-45' }, { priority: 'urgent' }]) {
      expect((await post(droplet, '/stock-levels', { ...level, ...body })).statusCode, JSON.stringify(body)).toBe(400);
    }
    const missing = await post(droplet, '/stock-levels', { ...level, warehouse_id: 'no-such-warehouse' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toEqual({
      error: {
        code: 'REFERENCE_NOT_FOUND',
        message: expect.any(String),
        details: { field: 'warehouse_id', resource: 'warehouses', id: 'no-such-warehouse' },
      },
    });
    expect((await post(droplet, '/stock-levels', level)).statusCode).toBe(201);
  });

  it('pages and filters lists as the contract says', async () => {
    const droplet = app(mkdtempSync(join(tmpdir(), 'skeleton-data-')));
    for (let i = 0; i < 5; i += 1) await post(droplet, '/warehouses', { name: `W${i}`, active: i % 2 === 0 });
    expect(await get(droplet, '/warehouses?limit=2&offset=1&active=true')).toMatchObject({ total: 3, limit: 2, offset: 1, items: [{ name: 'W2' }, { name: 'W4' }] });
    expect(await get(droplet, '/warehouses')).toMatchObject({ total: 5, limit: 50, offset: 0 });
    for (const query of ['limit=0', 'limit=101', 'offset=-1', 'active=maybe', 'tags=x', 'colour=red']) {
      expect((await droplet.inject({ method: 'GET', url: `/warehouses?${query}`, headers: AUTH })).json(), query).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    }
  });

  it('keeps records across a real restart and reads its .env, the environment winning', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'skeleton-data-'));
    const port = await freePort('127.0.0.1');
    writeFileSync(join(dir, '.env'), `SERVICE_PORT=${port}\nAPI_TOKEN=from-dotenv\nSERVICE_NAME=from-dotenv\nLOG_LEVEL=debug\n`);
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: 'Bearer from-dotenv', 'content-type': 'application/json' };
    const start = async () => {
      const child = spawn(process.execPath, ['src/server.js'], { cwd: dir, env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, SERVICE_NAME: 'from-env', LOG_LEVEL: 'silent' }, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      for (let i = 0; i < 100; i += 1) {
        if ((await fetch(`${base}/health`).catch(() => null))?.ok) return { stop: () => (child.kill('SIGTERM'), exited) };
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGKILL');
      throw new Error('the droplet never answered');
    };
    const first = await start();
    expect((await fetch(`${base}/capabilities`)).status).toBe(401);
    expect(await (await fetch(`${base}/capabilities`, { headers })).json()).toMatchObject({ service_name: 'from-env' });
    const created = await (await fetch(`${base}/warehouses`, { method: 'POST', headers, body: JSON.stringify({ name: 'Kept', tags: ['a'] }) })).json();
    expect(await first.stop()).toBe(0);
    expect(JSON.parse(readFileSync(join(dataDir, 'warehouses.json'), 'utf8'))).toMatchObject({ records: [created] });

    const second = await start();
    expect(await (await fetch(`${base}/warehouses`, { headers })).json()).toEqual({ items: [created], total: 1, limit: 50, offset: 0 });
    expect(await second.stop()).toBe(0);
    rmSync(join(dir, '.env'));
  });
});
