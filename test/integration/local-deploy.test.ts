/**
 * The local deploy target against real droplet processes: health gate, reuse, replacement,
 * rollback on an unhealthy release, cancellation, and surviving the executor's exit.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDeployTarget } from '../../src/deploy/local.js';
import type { DeployRequest } from '../../src/domain/ports/deploy.js';
import { CancelledError, StepError } from '../../src/domain/errors.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { DeploymentStore } from '../../src/store/deployments.js';
import { eventually, isAlive, processesUnder } from '../support/processes.js';

const droplet = { dropletId: 7, name: 'echo-service' };
const API_TOKEN = 'droplet-token-5b2e8a';

type Behaviour = 'healthy' | 'unhealthy' | 'crash';

/** A dependency-free droplet; `tiny-dep` under node_modules proves node_modules is deployed. */
function writeDroplet(dir: string, version: string, behaviour: Behaviour): string {
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'tiny-dep'), { recursive: true });
  mkdirSync(join(dir, '.git'), { recursive: true });
  writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: droplet.name, version, main: 'src/server.js' }));
  writeFileSync(join(dir, 'node_modules', 'tiny-dep', 'index.js'), `module.exports = { marker: 'tiny-dep' };\n`);
  writeFileSync(
    join(dir, 'src', 'server.js'),
    `'use strict';
const http = require('node:http');
const dep = require('tiny-dep');
const behaviour = ${JSON.stringify(behaviour)};
if (behaviour === 'crash') throw new Error('boom at startup');
const started = Date.now();
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/health') {
    res.statusCode = behaviour === 'healthy' ? 200 : 503;
    res.end(JSON.stringify({ status: behaviour, version: ${JSON.stringify(version)}, timestamp: new Date().toISOString(),
      uptime_seconds: Math.floor((Date.now() - started) / 1000) }));
  } else if (req.url === '/env') {
    res.end(JSON.stringify({ env: process.env, dep: dep.marker, cwd: process.cwd() }));
  } else {
    res.statusCode = 404;
    res.end('{}');
  }
});
server.listen(Number(process.env.SERVICE_PORT), process.env.HOST, () => {
  console.log(JSON.stringify({ level: 'info', msg: 'listening', behaviour, token: process.env.API_TOKEN }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`,
  );
  return dir;
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('LocalDeployTarget', () => {
  let root: string;
  let dataDir: string;
  let db: Db;
  let store: DeploymentStore;
  let target: LocalDeployTarget;
  let impatient: LocalDeployTarget;
  const startedPids = new Set<number>();

  function request(releaseId: string, behaviour: Behaviour, version: string, extra: Partial<DeployRequest> = {}): DeployRequest {
    return {
      releaseId,
      droplet,
      sourceDir: writeDroplet(join(root, 'sources', releaseId), version, behaviour),
      commit: releaseId.padEnd(40, '0').slice(0, 40),
      signal: new AbortController().signal,
      onProgress: (_message, data) => {
        if (typeof data?.pid === 'number') startedPids.add(data.pid);
      },
      ...extra,
    };
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'local-deploy-'));
    dataDir = join(root, 'data');
    db = openDatabase(join(dataDir, 'executor.db'));
    store = new DeploymentStore(db);
    const options = { dataDir, deployments: store, host: '127.0.0.1', env: { LOG_LEVEL: 'info', API_TOKEN }, stopGraceMs: 2_000 };
    target = new LocalDeployTarget({ ...options, healthTimeoutMs: 15_000 });
    impatient = new LocalDeployTarget({ ...options, healthTimeoutMs: 1_500 });
    process.env.EXECUTOR_TEST_SECRET = 'must-not-reach-droplets';
  });

  afterAll(async () => {
    delete process.env.EXECUTOR_TEST_SECRET;
    const stoppedLeftovers = await target.stopAll();
    for (const pid of startedPids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    db.close();
    const survivors = [...startedPids].filter(isAlive);
    const underData = processesUnder(dataDir);
    rmSync(root, { recursive: true, force: true });
    expect(stoppedLeftovers).toEqual([]);
    expect(survivors).toEqual([]);
    expect(underData).toEqual([]);
  });

  it('deploys a release that answers healthy, with an allowlisted environment', async () => {
    const deployment = await target.deploy(request('release-1', 'healthy', '1.0.0'));
    expect(deployment).toMatchObject({ releaseId: 'release-1', dropletId: 7, target: 'local', reused: false });
    expect(deployment.url).toBe(`http://127.0.0.1:${deployment.port}`);
    expect(isAlive(deployment.pid!)).toBe(true);

    const health = await getJson(`${deployment.url}/health`);
    expect(health).toMatchObject({ status: 200, body: { status: 'healthy', version: '1.0.0' } });

    const releaseDir = join(dataDir, 'deployments', '7-echo-service', 'release-1');
    const { body } = await getJson(`${deployment.url}/env`);
    expect(body.cwd).toBe(resolve(releaseDir));
    expect(body.dep).toBe('tiny-dep');
    const env = body.env as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(
      ['API_TOKEN', 'DATA_DIR', 'DROPLET_ID', 'ENVIRONMENT', 'HOST', 'LANG', 'LOG_LEVEL', 'NODE_ENV', 'PATH', 'SERVICE_NAME', 'SERVICE_PORT', 'TZ'],
    );
    // The records live beside the releases, not in one: a redeploy keeps them.
    expect(env.DATA_DIR).toBe(join(dataDir, 'deployments', '7-echo-service', 'data'));
    expect(existsSync(env.DATA_DIR!)).toBe(true);
    expect(env).toMatchObject({ SERVICE_NAME: 'echo-service', SERVICE_PORT: String(deployment.port), DROPLET_ID: '7', ENVIRONMENT: 'production', NODE_ENV: 'production' });
    expect(existsSync(join(releaseDir, '.git'))).toBe(false);
    expect(existsSync(join(releaseDir, 'node_modules', 'tiny-dep', 'index.js'))).toBe(true);
    expect(readFileSync(join(releaseDir, 'droplet.log'), 'utf8')).toContain('"msg":"listening"');

    expect(store.findByRelease('release-1')).toMatchObject({ status: 'active', pid: deployment.pid, directory: resolve(releaseDir) });
  });

  it('reuses a live release instead of starting it again', async () => {
    const first = store.findByRelease('release-1')!;
    const again = await target.deploy(request('release-1', 'healthy', '1.0.0'));
    expect(again).toMatchObject({ releaseId: 'release-1', reused: true, pid: first.pid, url: first.url, childProcessMs: 0 });
    expect(isAlive(first.pid!)).toBe(true);
  });

  it('replaces the previous release only after the new one is healthy', async () => {
    const previous = store.findByRelease('release-1')!;
    let previousAliveWhenNewWasHealthy: boolean | undefined;
    const deployment = await target.deploy(
      request('release-2', 'healthy', '2.0.0', {
        onProgress: (message, data) => {
          if (typeof data?.pid === 'number') startedPids.add(data.pid);
          if (message === 'Droplet healthy') previousAliveWhenNewWasHealthy = isAlive(previous.pid!);
        },
      }),
    );
    expect(previousAliveWhenNewWasHealthy).toBe(true);
    expect(deployment.pid).not.toBe(previous.pid);
    expect(isAlive(deployment.pid!)).toBe(true);
    expect(isAlive(previous.pid!)).toBe(false);
    expect((await getJson(`${deployment.url}/health`)).body).toMatchObject({ status: 'healthy', version: '2.0.0' });
    expect(store.findByRelease('release-1')?.status).toBe('replaced');
    expect(store.findActive(7, 'local')?.releaseId).toBe('release-2');
  });

  it('rolls back an unhealthy release: step error with the log tail, previous release still serving', async () => {
    const serving = store.findActive(7, 'local')!;
    const attempt = impatient.deploy(request('release-3', 'unhealthy', '3.0.0'));
    const error = await attempt.catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StepError);
    expect(error).toMatchObject({ code: 'DEPLOY_UNHEALTHY', details: { release_id: 'release-3', reason: 'timeout', previous_release_id: 'release-2' } });
    const tail = (error as StepError).details.log_tail as string;
    expect(tail).toContain('"behaviour":"unhealthy"');
    expect(tail).not.toContain(API_TOKEN);

    expect(store.findByRelease('release-3')?.status).toBe('failed');
    expect(processesUnder(join(dataDir, 'deployments', '7-echo-service', 'release-3'))).toEqual([]);
    expect(store.findActive(7, 'local')?.releaseId).toBe('release-2');
    expect(isAlive(serving.pid!)).toBe(true);
    expect((await getJson(`${serving.url}/health`)).body).toMatchObject({ status: 'healthy', version: '2.0.0' });
  });

  it('fails fast when the release crashes at startup', async () => {
    const error = await target.deploy(request('release-4', 'crash', '4.0.0')).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'DEPLOY_UNHEALTHY', details: { reason: 'exited' } });
    expect((error as StepError).details.log_tail).toContain('boom at startup');
    expect(store.findActive(7, 'local')?.releaseId).toBe('release-2');
  });

  it('kills the new process and keeps the previous one when cancelled', async () => {
    const controller = new AbortController();
    const error = await target
      .deploy(
        request('release-5', 'unhealthy', '5.0.0', {
          signal: controller.signal,
          onProgress: (message, data) => {
            if (typeof data?.pid === 'number') startedPids.add(data.pid);
            if (message === 'Droplet started') controller.abort();
          },
        }),
      )
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CancelledError);
    expect(store.findByRelease('release-5')?.status).toBe('failed');
    expect(processesUnder(join(dataDir, 'deployments', '7-echo-service', 'release-5'))).toEqual([]);
    expect(store.findActive(7, 'local')?.releaseId).toBe('release-2');
  });

  it('leaves the droplet running after the deploying process exits', async () => {
    const sourceDir = writeDroplet(join(root, 'sources', 'release-6'), '6.0.0', 'healthy');
    const script = join(root, 'deploy-and-exit.mts');
    const moduleUrl = (path: string) => pathToFileURL(resolve(path)).href;
    writeFileSync(
      script,
      `import { LocalDeployTarget } from ${JSON.stringify(moduleUrl('src/deploy/local.ts'))};
import { openDatabase } from ${JSON.stringify(moduleUrl('src/store/db.ts'))};
import { DeploymentStore } from ${JSON.stringify(moduleUrl('src/store/deployments.ts'))};
const db = openDatabase(${JSON.stringify(join(dataDir, 'executor.db'))});
const target = new LocalDeployTarget({ dataDir: ${JSON.stringify(dataDir)}, deployments: new DeploymentStore(db),
  healthTimeoutMs: 15000, env: { LOG_LEVEL: 'info' } });
const deployment = await target.deploy({ releaseId: 'release-6', droplet: ${JSON.stringify(droplet)},
  sourceDir: ${JSON.stringify(sourceDir)}, commit: '6'.repeat(40), signal: new AbortController().signal });
db.close();
console.log(JSON.stringify(deployment));
`,
    );
    const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    // The script is not told to exit: it ends only if nothing (the droplet included) holds its event loop.
    const child = spawn(process.execPath, ['--import', tsxLoader, script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exitCode = await new Promise<number | null>((done) => child.on('close', done));
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);

    const deployment = JSON.parse(stdout) as { pid: number; url: string };
    startedPids.add(deployment.pid);
    expect(isAlive(deployment.pid)).toBe(true);
    expect((await getJson(`${deployment.url}/health`)).body).toMatchObject({ status: 'healthy', version: '6.0.0' });
    expect(store.findByRelease('release-2')?.status).toBe('replaced');
  });

  it('stops every active release', async () => {
    const active = store.findActive(7, 'local')!;
    expect(await target.stopAll()).toEqual([active.releaseId]);
    expect(await eventually(() => !isAlive(active.pid!))).toBe(true);
    expect(store.findByRelease(active.releaseId)?.status).toBe('stopped');
    expect(await target.stopDeployment(active.releaseId)).toBe(false);
  });
});
