/**
 * A resumed build may run a step twice (the executor died after the side effect, before
 * the step was recorded). The registry and the notifiers must not repeat themselves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import { LogNotifier } from '../../src/notify/log.js';
import { WebhookNotifier } from '../../src/notify/webhook.js';
import { completeStep } from '../../src/pipeline/steps/complete.js';
import type { VerifyOutput } from '../../src/domain/step-outputs.js';
import { registryUpdateStep } from '../../src/pipeline/steps/registry-update.js';
import type { Providers, StepContext } from '../../src/pipeline/types.js';
import { EmbeddedRegistry } from '../../src/registry/embedded.js';
import type { BuildRecord } from '../../src/domain/records.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { DropletStore } from '../../src/store/droplets.js';
import { ModelCallStore, SqliteModelCallLedger } from '../../src/store/model-calls.js';
import { NotificationStore } from '../../src/store/notifications.js';
import { createModelJournal } from '../../src/pipeline/model-journal.js';
import { DropletVerifier } from '../../src/verify/verifier.js';
import { GitWorkspace } from '../../src/repo/repo.js';
import { ProcessSandbox } from '../../src/sandbox/process-sandbox.js';

let dir: string;
let db: Db;
let receiver: Server;
let deliveries = 0;
let context: StepContext<'verifier', 'deployer'>;
let registry: EmbeddedRegistry;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'idempotency-'));
  db = openDatabase(join(dir, 'executor.db'));
  receiver = createServer((request, response) => {
    request.resume().on('end', () => {
      deliveries += 1;
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;

  const notifications = new NotificationStore(db);
  const workspace = new GitWorkspace({ reposDir: join(dir, 'repos') });
  registry = new EmbeddedRegistry(new DropletStore(db));
  const log = pino({ level: 'silent' });
  const providers: Providers = {
    author: new OfflineAuthor(),
    foundation: async () => [],
    workspace,
    verifier: new DropletVerifier({
      sandbox: new ProcessSandbox({ baseEnv: {}, homeDir: join(dir, 'home'), npmCacheDir: join(dir, 'npm') }),
      installTimeoutMs: 1_000,
      testTimeoutMs: 1_000,
      startTimeoutMs: 1_000,
    }),
    deployTarget: null,
    registry,
    notifiers: [new LogNotifier(log), new WebhookNotifier({ url: `http://127.0.0.1:${port}/hook`, secret: 'whsec-idempotent', timeoutMs: 5_000, attempts: 1 })],
    deliveries: {
      wasDelivered: async (deliveryId, channel) => notifications.wasDelivered(deliveryId, channel),
      recordDelivery: async (deliveryId, channel, detail) => void notifications.recordDelivery({ deliveryId, channel, detail }),
    },
  };
  const droplet = { dropletId: 7, name: 'quote-keeper' };
  const repo = workspace.repoFor(droplet);
  await repo.ensure();
  const first = await repo.commitChanges([{ kind: 'write', path: 'package.json', content: '{"version":"1.2.3"}\n' }], 'feat: package', { step: 'apprentice_build', buildId: 'b-1' });
  const verified: VerifyOutput = {
    commit: first!.sha,
    attempts: 1,
    report: { passed: true, stage: 'contract', summary: 'ok', childProcessMs: 0, observed: { version: '1.2.3', capabilities: ['quotes'] } },
  };
  const build: BuildRecord = {
    id: 'build-7-quote-keeper-20261125-000000',
    dropletId: 7,
    dropletName: 'quote-keeper',
    intent: 'Build Quote Keeper for memorable quotes',
    approvalMode: 'auto',
    autoDeploy: false,
    deployHost: null,
    notifyChannels: null,
    status: 'in_progress',
    currentStep: 7,
    createdAt: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    completedAt: null,
    estimatedSeconds: 60,
    maxCostUsd: null,
    repositoryPath: repo.path,
    repositoryUrl: null,
    deploymentUrl: null,
    pendingApproval: null,
    error: null,
  };
  context = {
    build,
    droplet,
    providers,
    limits: { maxBuildIterations: 1 },
    signal: new AbortController().signal,
    log,
    needs: { verifier: verified },
    uses: {},
    progress: () => {},
    calls: createModelJournal({ ledger: new SqliteModelCallLedger(new ModelCallStore(db)), buildId: build.id, stepNumber: 7, capUsd: null, recordCall: async () => {} }),
    setLocations: async () => {},
    recordDocument: (path, content, message) => repo.commitChanges([{ kind: 'write', path, content }], message, { step: 'test', buildId: build.id }),
  };
});

afterAll(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('registers a build once, however often the step runs', async () => {
  const first = await registryUpdateStep.run(context);
  const second = await registryUpdateStep.run(context);
  expect(first.details).toMatchObject({ changed: true, version: '1.2.3', capabilities: ['quotes'] });
  expect(second.details).toMatchObject({ changed: false });
  expect(await registry.list()).toHaveLength(1);
});

it('delivers each notification once, however often the step runs', async () => {
  const first = await completeStep.run(context);
  const second = await completeStep.run(context);
  expect(deliveries).toBe(1);
  expect(first.details.deliveries).toEqual([
    expect.objectContaining({ channel: 'log', delivered: true }),
    expect.objectContaining({ channel: 'webhook', delivered: true }),
  ]);
  expect(second.details.deliveries).toEqual([
    { channel: 'log', delivered: true, detail: 'already delivered' },
    { channel: 'webhook', delivered: true, detail: 'already delivered' },
  ]);
});
