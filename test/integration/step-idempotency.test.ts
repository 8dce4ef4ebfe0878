/**
 * A resumed build may run a step twice (the executor died after the side effect, before
 * the step was recorded). The registry and the notifiers must not repeat themselves.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import { LogNotifier } from '../../src/notify/log.js';
import { TargetGuard } from '../../src/notify/target-guard.js';
import { WebhookNotifier } from '../../src/notify/webhook.js';
import { Announcer } from '../../src/pipeline/announcer.js';
import { InMemoryEventBus } from '../../src/pipeline/events.js';
import { completeStep } from '../../src/pipeline/steps/complete.js';
import type { VerifyOutput } from '../../src/domain/step-outputs.js';
import { registryUpdateStep } from '../../src/pipeline/steps/registry-update.js';
import type { Providers, StepContext } from '../../src/pipeline/types.js';
import type { DropletRegistry } from '../../src/registry/droplet-registry.js';
import { embeddedRegistry } from '../support/registry.js';
import type { BuildRecord } from '../../src/domain/records.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { ModelCallStore, SqliteModelCallLedger } from '../../src/store/model-calls.js';
import { SqliteBuildStore } from '../../src/store/build-store.js';
import { SqliteNotificationOutbox } from '../../src/store/notification-outbox.js';
import { createModelJournal } from '../../src/pipeline/model-journal.js';
import { DropletVerifier } from '../../src/verify/verifier.js';
import { GitWorkspace } from '../../src/repo/repo.js';
import { ProcessSandbox } from '../../src/sandbox/process-sandbox.js';

let dir: string;
let db: Db;
let receiver: Server;
let deliveries = 0;
let context: StepContext<'verifier', 'deployer'>;
let registry: DropletRegistry;
let announcer: Announcer;

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

  const bus = new InMemoryEventBus();
  const store = new SqliteBuildStore(db, (event) => bus.publish(event), new ModelCallStore(db));
  const ledger = new SqliteModelCallLedger(new ModelCallStore(db));
  const workspace = new GitWorkspace({ reposDir: join(dir, 'repos') });
  registry = embeddedRegistry(db).registry;
  const log = pino({ level: 'silent' });
  // The real channels (the receiver is on loopback: allowed explicitly) behind the real announcer and outbox.
  const webhook = new WebhookNotifier({
    url: `http://127.0.0.1:${port}/hook`, secret: 'whsec-idempotent', events: ['completed'], guard: new TargetGuard({ allowPrivate: true }), timeoutMs: 5_000,
  });
  announcer = new Announcer(
    { outbox: new SqliteNotificationOutbox(db, (buildId, event) => store.journalNotificationNow(buildId, event)), notifiers: [new LogNotifier(log), webhook], store, ledger, bus, log, redact: (text) => text },
    { publicUrl: 'http://executor.test', policy: { windowMs: 60_000, baseDelayMs: 10, maxDelayMs: 50, attemptTimeoutMs: 10_000 }, firstRound: { attempts: 3, maxMs: 5_000 } },
  );
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
    publisher: null,
    announcer,
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
  // The build's row, so the announcer can journal its attempts onto it.
  await store.create(build, () => build.id);
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
    calls: createModelJournal({ ledger, buildId: build.id, stepNumber: 7, capUsd: null, recordCall: async () => {} }),
    setLocations: async () => {},
    recordDocument: (path, content, message) => repo.commitChanges([{ kind: 'write', path, content }], message, { step: 'test', buildId: build.id }),
    events: async () => [],
    usage: async () => null,
  };
});

afterAll(async () => {
  await announcer?.close();
  await new Promise((resolve) => receiver?.close(resolve));
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('registers a build once, however often the step runs', async () => {
  const first = await registryUpdateStep.run(context);
  const second = await registryUpdateStep.run(context);
  expect(first.details).toMatchObject({ changed: true, version: '1.2.3', capabilities: ['quotes'] });
  expect(second.details).toMatchObject({ changed: false, version: '1.2.3', tag: 'v1.2.3', fleet_entry_id: null });
  expect(await registry.list()).toHaveLength(1);
  // The version's tag is on the verified commit, once.
  const tagged = execFileSync('git', ['-C', context.build.repositoryPath!, 'rev-list', '-n', '1', 'v1.2.3'], { encoding: 'utf8' }).trim();
  expect(tagged).toBe(context.needs.verifier.commit);
});

it('delivers each notification once, however often the step runs', async () => {
  const first = await completeStep.run(context);
  const second = await completeStep.run(context);
  expect(deliveries).toBe(1);
  const byChannel = (details: Record<string, unknown>) =>
    (details.deliveries as { channel: string; status: string; attempts: unknown[] }[]).map((delivery) => [delivery.channel, delivery.status, delivery.attempts.length]);
  expect(byChannel(first.details)).toEqual([['log', 'delivered', 1], ['webhook', 'delivered', 1]]);
  // The second run reports the same single attempts: nothing was sent again.
  expect(second.details.deliveries).toEqual(first.details.deliveries);
});
