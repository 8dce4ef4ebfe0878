/**
 * The fast core tier's host: the runner, the scheduler and the build service assembled
 * exactly as src/composition/executor.ts assembles them (SqliteBuildStore, catalog,
 * ledger, InMemoryEventBus, BuildScheduler, createRunner, createBuildService) over
 * SQLite (in memory, or a temporary file when two hosts must share one database), with
 * stub providers only: no npm, no git, no sandbox, no child process.
 *
 * Every stub reports to one Probe, at one point per step (below). A test can hold a
 * step there (`hold`), make it throw (`failAt`) and count how often it ran (`entered`).
 *
 *   intent               the runner's ledger.usageOf(build, 1), once the step's run returned (*)
 *   spec_generation      author.writeSpec        (honours the abort signal)
 *   coordinator_package  repo.commitEach of the package commits
 *   apprentice_build     author.writeCode        (honours the abort signal)
 *   verifier             verifier.verify, every attempt (honours the abort signal)
 *   deployer             deployTarget.deploy     (honours the abort signal)
 *   registry_update      registry.register
 *   complete             announcer.announce      (honours the abort signal; the real announcer delivers to StubNotifier)
 *
 * (*) The intent step calls no provider, so its point is the one seam that is not a
 * provider: the real SqliteModelCallLedger, wrapped. The runner asks it for a step's
 * usage after the step's run returned and before the result is journaled, which is
 * also the moment a cancel races a finishing step (`holdFinish`, any step).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type BuildStatus, type DropletIdentity, STEP_NAMES, type StepName, stepNameAt } from '../../src/domain/build.js';
import type { Deployment } from '../../src/domain/deployment.js';
import { CancelledError } from '../../src/domain/errors.js';
import type { BuildEvent, BuildEventType } from '../../src/domain/events.js';
import type { CommitEntry, CommitInfo, FileChange, RepoFile, Trailers } from '../../src/domain/files.js';
import type { AnnouncedEvent, BuildNotification, DeliveryAttempt } from '../../src/domain/notification.js';
import type { Author, AuthorCallOptions, CodeRequest, FoundationFile, RepairRequest, SpecDocument, SpecRequest } from '../../src/domain/ports/author.js';
import type { ModelCallLedger } from '../../src/domain/ports/build-store.js';
import type { DeployRequest, DeployTarget } from '../../src/domain/ports/deploy.js';
import type { DropletNamer } from '../../src/domain/ports/droplet-namer.js';
import type { Notifier } from '../../src/domain/ports/notifier.js';
import type { RunBuild } from '../../src/domain/ports/queue.js';
import type { HeartbeatHealth, HeartbeatOutcome, RegisterResult, Registry } from '../../src/domain/ports/registry.js';
import { embeddedRegistry } from './registry.js';
import type { DropletRepo, Workspace } from '../../src/domain/ports/repository.js';
import type { SpecProofCheck, SpecProofFiles, Verifier, VerifyOptions } from '../../src/domain/ports/verifier.js';
import { checkSpecProof } from '../../src/verify/spec-proof.js';
import { minimalProof } from './spec-proof.js';
import type { BuildRecord } from '../../src/domain/records.js';
import type { DropletRegistration, RegisteredDroplet } from '../../src/domain/registration.js';
import type { UsageFigures } from '../../src/domain/usage.js';
import type { VerificationReport } from '../../src/domain/verification.js';
import type { Announcement, BuildAnnouncer, DeliveryReport } from '../../src/pipeline/announcement.js';
import { Announcer } from '../../src/pipeline/announcer.js';
import { createBuildService, recoverBuilds } from '../../src/pipeline/builds.js';
import { InMemoryEventBus } from '../../src/pipeline/events.js';
import { createRunner, failCrashedBuild } from '../../src/pipeline/runner.js';
import { BuildScheduler } from '../../src/pipeline/scheduler.js';
import type { BuildService, SubmitBuildInput } from '../../src/pipeline/service.js';
import type { Providers } from '../../src/pipeline/types.js';
import { SqliteBuildCatalog } from '../../src/store/build-catalog.js';
import { SqliteBuildStore } from '../../src/store/build-store.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { ModelCallStore, SqliteModelCallLedger } from '../../src/store/model-calls.js';
import { SqliteNotificationOutbox } from '../../src/store/notification-outbox.js';
import { SecretRedactor } from '../../src/support/secrets.js';

/** A value the redactor knows: anything a stub says containing it must reach the journal as [REDACTED]. */
export const TEST_SECRET = 'sk-core-tier-0123456789abcdef';

const silent = pino({ level: 'silent' });

/** One stop: the first arrival at its point waits until the test releases it (or the step's signal fires). */
export class Hold {
  reachedNow = false;
  releasedNow = false;
  private arrive!: () => void;
  private letGo!: () => void;
  /** Resolves when a stub arrives at the point. */
  readonly reached = new Promise<void>((resolve) => (this.arrive = resolve));
  private readonly released = new Promise<void>((resolve) => (this.letGo = resolve));

  release(): void {
    this.releasedNow = true;
    this.letGo();
  }

  /** Called by the stub. Rejects with CancelledError, as real providers do, when the signal fires first. */
  async wait(signal?: AbortSignal): Promise<void> {
    this.reachedNow = true;
    this.arrive();
    if (!signal) return this.released;
    if (signal.aborted) throw new CancelledError();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new CancelledError());
      signal.addEventListener('abort', onAbort, { once: true });
      void this.released.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

const zeroCounts = () => Object.fromEntries(STEP_NAMES.map((name) => [name, 0])) as Record<StepName, number>;

/** Where every stub reports: counts, holds and scripted faults per step. */
export class Probe {
  /** How many times each step's point was reached (intent: how many times its run returned). */
  readonly entered = zeroCounts();
  readonly finished = zeroCounts();
  private readonly holds = new Map<StepName, Hold>();
  private readonly finishHolds = new Map<StepName, Hold>();
  private readonly faults = new Map<StepName, { error: unknown; remaining: number }>();
  private frozen = false;

  hold(step: StepName): Hold {
    const hold = new Hold();
    this.holds.set(step, hold);
    return hold;
  }

  holdFinish(step: StepName): Hold {
    const hold = new Hold();
    this.finishHolds.set(step, hold);
    return hold;
  }

  failAt(step: StepName, error: unknown, times = 1): void {
    this.faults.set(step, { error, remaining: times });
  }

  /** A crashed process does nothing more: every later arrival waits forever. */
  freeze(): void {
    this.frozen = true;
  }

  async enter(step: StepName, signal?: AbortSignal): Promise<void> {
    if (this.frozen) return new Promise<void>(() => {});
    this.entered[step] += 1;
    const hold = this.holds.get(step);
    if (hold) {
      this.holds.delete(step);
      await hold.wait(signal);
    }
    const fault = this.faults.get(step);
    if (fault && fault.remaining > 0) {
      fault.remaining -= 1;
      throw fault.error;
    }
  }

  async finish(step: StepName): Promise<void> {
    if (this.frozen) return new Promise<void>(() => {});
    if (step === 'intent') await this.enter('intent');
    this.finished[step] += 1;
    const hold = this.finishHolds.get(step);
    if (hold) {
      this.finishHolds.delete(step);
      await hold.wait();
    }
  }
}

/** The real ledger, told to the probe when the runner asks for a step's usage (see the header). */
class ProbedLedger implements ModelCallLedger {
  constructor(
    private readonly real: ModelCallLedger,
    private readonly probe: Probe,
  ) {}

  async usageOf(buildId: string, stepNumber?: number): Promise<UsageFigures | null> {
    if (stepNumber !== undefined) await this.probe.finish(stepNameAt(stepNumber));
    return this.real.usageOf(buildId, stepNumber);
  }

  savedResult(buildId: string, key: string): Promise<unknown> {
    return this.real.savedResult(buildId, key);
  }

  saveResults(buildId: string, stepNumber: number, results: ReadonlyMap<string, unknown>): Promise<void> {
    return this.real.saveResults(buildId, stepNumber, results);
  }
}

export const SPEC_MARKDOWN = (droplet: DropletIdentity) =>
  `# ${droplet.name} SPEC\n\n## Endpoints\n\nGET /health\n\n## Data\n\nNone.\n`;

export class StubAuthor implements Author {
  readonly id = 'stub';
  readonly description = 'Scripted author for the core tests.';
  readonly specRequests: SpecRequest[] = [];
  readonly codeRequests: CodeRequest[] = [];
  readonly repairRequests: RepairRequest[] = [];
  /** What writeSpec answers; an empty string makes the step fail with EMPTY_SPEC. */
  spec: ((droplet: DropletIdentity) => string) = SPEC_MARKDOWN;
  /** The proof files (and coverage) writeSpec answers beside the SPEC. */
  proof: (request: SpecRequest) => Omit<SpecDocument, 'markdown'> = () => minimalProof();

  constructor(private readonly probe: Probe) {}

  async writeSpec(request: SpecRequest, options: AuthorCallOptions): Promise<SpecDocument> {
    this.specRequests.push(request);
    await this.probe.enter('spec_generation', options.signal);
    return { markdown: this.spec(request.droplet), ...this.proof(request) };
  }

  async writeCode(request: CodeRequest, options: AuthorCallOptions): Promise<FileChange[]> {
    this.codeRequests.push(request);
    await this.probe.enter('apprentice_build', options.signal);
    return [
      { kind: 'write', path: 'package.json', content: `{"name":"${request.droplet.name}","version":"0.1.0"}\n` },
      { kind: 'write', path: 'src/server.js', content: `// ${request.droplet.name}\n` },
      ...this.extraCode,
    ];
  }

  /** Written beside the code and the repairs (files a test wants an author to try to change). */
  extraCode: FileChange[] = [];
  extraRepair: FileChange[] = [];

  async repair(request: RepairRequest): Promise<FileChange[]> {
    this.repairRequests.push(request);
    return [{ kind: 'write', path: 'src/server.js', content: `// repaired after attempt ${request.attempt}\n` }, ...this.extraRepair];
  }
}

/** A droplet repository in memory: commits get increasing fake shas. */
export class MemoryRepo implements DropletRepo {
  readonly files = new Map<string, string>();
  readonly commits: (CommitInfo & { trailers: Trailers })[] = [];
  readonly tags: string[] = [];
  /** The commit each tag names. */
  readonly taggedCommits = new Map<string, string | null>();
  restores = 0;

  constructor(
    readonly path: string,
    private readonly nextSha: () => string,
    private readonly probe: Probe,
  ) {}

  async ensure(): Promise<void> {}

  private apply(changes: readonly FileChange[], message: string, trailers: Trailers): CommitInfo | null {
    let changed = false;
    for (const change of changes) {
      if (change.kind === 'write' && this.files.get(change.path) !== change.content) {
        this.files.set(change.path, change.content);
        changed = true;
      } else if (change.kind === 'delete' && this.files.delete(change.path)) changed = true;
    }
    if (!changed) return null;
    const commit = { sha: this.nextSha(), message, trailers };
    this.commits.push(commit);
    return { sha: commit.sha, message };
  }

  async commitChanges(changes: readonly FileChange[], message: string, trailers: Trailers): Promise<CommitInfo | null> {
    return this.apply(changes, message, trailers);
  }

  async commitEach(entries: readonly CommitEntry[]): Promise<(CommitInfo | null)[]> {
    if (entries.some((entry) => entry.trailers.step === 'coordinator_package')) await this.probe.enter('coordinator_package');
    return entries.map((entry) => this.apply(entry.changes, entry.message, entry.trailers));
  }

  async commitWorkingTree(): Promise<CommitInfo | null> {
    return null;
  }

  async readFiles(paths: readonly string[]): Promise<RepoFile[]> {
    return paths.flatMap((path) => {
      const content = this.files.get(path);
      return content === undefined ? [] : [{ path, content }];
    });
  }

  async restoreWorkingTree(): Promise<void> {
    this.restores += 1;
  }

  async listFiles(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }

  async head(): Promise<string | null> {
    return this.commits.at(-1)?.sha ?? null;
  }

  async tag(name: string, _message: string, commit?: string): Promise<void> {
    this.tags.push(name);
    this.taggedCommits.set(name, commit ?? this.commits.at(-1)?.sha ?? null);
  }

  async archive(): Promise<void> {
    throw new Error('The stub deploy target never asks for an archive.');
  }

  async log(): Promise<CommitInfo[]> {
    return [...this.commits].reverse().map(({ sha, message }) => ({ sha, message }));
  }
}

export class StubWorkspace implements Workspace {
  readonly repos = new Map<string, MemoryRepo>();
  private shas = 0;

  constructor(private readonly probe: Probe) {}

  repoFor(droplet: DropletIdentity): MemoryRepo {
    const key = `${droplet.dropletId}-${droplet.name}`;
    let repo = this.repos.get(key);
    if (!repo) {
      repo = new MemoryRepo(`/virtual/repos/${key}`, () => (this.shas += 1).toString(16).padStart(40, '0'), this.probe);
      this.repos.set(key, repo);
    }
    return repo;
  }
}

export function passingReport(): VerificationReport {
  return { passed: true, stage: 'contract', summary: 'All checks passed.', childProcessMs: 0, contract: [], observed: { version: '1.2.3', capabilities: ['udc'] } };
}

/** A failed `npm test` run; different `failing` lists fail differently (no REPAIR_NOT_CONVERGING). */
export function failingReport(failing: string[] = ['GET /health answers']): VerificationReport {
  return {
    passed: false,
    stage: 'tests',
    summary: `${failing.length} test(s) failed.`,
    childProcessMs: 0,
    tests: { command: 'npm test', exitCode: 1, timedOut: false, truncated: false, durationMs: 1, outputTail: failing.map((name) => `not ok ${name}`).join('\n'), failingTests: failing },
  };
}

export class StubVerifier implements Verifier {
  /** The next attempts' reports, in order; when empty, every attempt passes. An Error entry is thrown. */
  readonly script: (VerificationReport | Error)[] = [];
  readonly workdirs: string[] = [];
  /** The SPEC proof each attempt was held to (undefined for SPECs without one). */
  readonly proofs: (SpecProofFiles | undefined)[] = [];

  constructor(private readonly probe: Probe) {}

  /** The real guard: it is pure and fast. */
  checkSpecProof(files: SpecProofFiles): Promise<SpecProofCheck> {
    return checkSpecProof(files);
  }

  async verify(workdir: string, _droplet: DropletIdentity, options: VerifyOptions): Promise<VerificationReport> {
    this.workdirs.push(workdir);
    this.proofs.push(options.proof);
    await this.probe.enter('verifier', options.signal);
    const next = this.script.shift() ?? passingReport();
    if (next instanceof Error) throw next;
    options.onProgress?.('stub checks ran', { stage: next.stage });
    return next;
  }
}

export class StubDeployTarget implements DeployTarget {
  readonly id = 'stub';
  readonly hosts = ['local'];
  readonly requests: DeployRequest[] = [];

  constructor(private readonly probe: Probe) {}

  async deploy(request: DeployRequest): Promise<Deployment> {
    this.requests.push(request);
    await this.probe.enter('deployer', request.signal);
    const port = 4000 + request.droplet.dropletId;
    return {
      releaseId: request.releaseId,
      dropletId: request.droplet.dropletId,
      target: this.id,
      host: 'local',
      url: `http://127.0.0.1:${port}`,
      pid: null,
      port,
      supervisor: 'process',
      commit: request.commit,
      deployedAt: new Date().toISOString(),
      startedAt: null,
      reused: false,
      childProcessMs: 0,
    };
  }

  // The lifecycle is the fleet target's (tested against real hosts); builds only deploy.
  rollback = notPartOfABuild;
  stop = notPartOfABuild;
  start = notPartOfABuild;
  restart = notPartOfABuild;
  undeploy = notPartOfABuild;
  describe = async () => null;
  logs = notPartOfABuild;
  reconcile = async () => [];
  close = async () => ({ running: 0 });
}

async function notPartOfABuild(): Promise<never> {
  throw new Error('A build never calls the lifecycle of its deploy target.');
}

/** The real embedded registry over the host's database, held and counted by the probe. */
export class StubRegistry implements Registry {
  readonly id = 'stub-registry';
  readonly registrations: DropletRegistration[] = [];

  constructor(
    private readonly probe: Probe,
    private readonly real: Registry,
  ) {}

  async register(registration: DropletRegistration): Promise<RegisterResult> {
    this.registrations.push(registration);
    await this.probe.enter('registry_update');
    return this.real.register(registration);
  }

  list(): Promise<RegisteredDroplet[]> {
    return this.real.list();
  }

  lastRegistration(dropletId: number): Promise<RegisteredDroplet | null> {
    return this.real.lastRegistration(dropletId);
  }

  heartbeat(dropletId: number, health: HeartbeatHealth): Promise<HeartbeatOutcome> {
    return this.real.heartbeat(dropletId, health);
  }

  deregister(dropletId: number): Promise<boolean> {
    return this.real.deregister(dropletId);
  }
}

/** The `log` channel, recording what it was handed; it announces completions unless a test widens `events`. */
export class StubNotifier implements Notifier {
  readonly channel = 'log';
  events: AnnouncedEvent[] = ['completed'];
  readonly sent: BuildNotification[] = [];

  async deliver(notification: BuildNotification): Promise<DeliveryAttempt> {
    this.sent.push(notification);
    return { outcome: 'delivered', detail: 'logged' };
  }
}

/** The real announcer behind step 8's probe point: a hold or a fault there is one in step 8 itself. */
class ProbedAnnouncer implements BuildAnnouncer {
  constructor(
    private readonly real: Announcer,
    private readonly probe: Probe,
  ) {}

  get channels(): readonly string[] {
    return this.real.channels;
  }

  async announce(announcement: Announcement, options: { wait?: boolean; signal?: AbortSignal } = {}): Promise<DeliveryReport[]> {
    await this.probe.enter('complete', options.signal);
    return this.real.announce(announcement, options);
  }
}

export interface CoreHostOptions {
  /** A file-backed database (see tempDatabaseFile); default `:memory:`. */
  dbFile?: string;
  /** MAX_CONCURRENT_BUILDS; default 2. */
  concurrency?: number;
  /** MAX_BUILD_ITERATIONS; default 3. */
  maxBuildIterations?: number;
  /** false: DEPLOY_TARGET=none, the deploy step is skipped. Default true. */
  deploy?: boolean;
  /** The first build is created at this time, each next one a second later. */
  epoch?: Date;
  /** Names droplets submitted without a name; the build service's word rules when absent. */
  namer?: DropletNamer;
}

export const INTENT = 'Build Analytics Engine for tracking droplet metrics';

export class CoreHost {
  readonly db: Db;
  readonly bus = new InMemoryEventBus();
  readonly store: SqliteBuildStore;
  readonly catalog: SqliteBuildCatalog;
  readonly ledger: ModelCallLedger;
  readonly scheduler: BuildScheduler;
  readonly service: BuildService;
  readonly probe = new Probe();
  readonly author = new StubAuthor(this.probe);
  readonly workspace = new StubWorkspace(this.probe);
  readonly verifier = new StubVerifier(this.probe);
  readonly deployTarget: StubDeployTarget | null;
  readonly registry: StubRegistry;
  readonly notifier = new StubNotifier();
  readonly announcer: Announcer;
  readonly foundation: FoundationFile[] = [{ path: 'UDC.md', content: '# Universal Droplet Contract\n' }];
  /** Errors the scheduler's onError saw (a runner that threw). */
  readonly runnerErrors: { buildId: string; error: unknown }[] = [];
  /** Runs of the runner per build, started and returned. */
  readonly runsStarted = new Map<string, number>();
  readonly runsReturned = new Map<string, number>();
  abandoned = false;
  /** Listeners to every committed event of every build (the bus is per build). */
  readonly taps: ((event: BuildEvent) => void)[] = [];

  constructor(options: CoreHostOptions = {}) {
    this.db = openDatabase(options.dbFile ?? ':memory:');
    const redactor = new SecretRedactor([TEST_SECRET]);
    const redaction = { redact: (text: string) => redactor.redact(text), redactDeep: <T>(value: T) => redactor.redactDeep(value) };
    // As executor.ts: the store journals onto the bus; catalog and ledger read the same tables.
    this.store = new SqliteBuildStore(
      this.db,
      (event) => {
        for (const tap of this.taps) tap(event);
        this.bus.publish(event);
      },
      new ModelCallStore(this.db),
    );
    this.catalog = new SqliteBuildCatalog(this.db);
    this.registry = new StubRegistry(this.probe, embeddedRegistry(this.db).registry);
    this.ledger = new ProbedLedger(new SqliteModelCallLedger(new ModelCallStore(this.db)), this.probe);
    this.deployTarget = options.deploy === false ? null : new StubDeployTarget(this.probe);
    this.announcer = new Announcer(
      {
        outbox: new SqliteNotificationOutbox(this.db, (buildId, event) => this.store.journalNotificationNow(buildId, event)),
        notifiers: [this.notifier],
        ...{ store: this.store, ledger: new SqliteModelCallLedger(new ModelCallStore(this.db)), bus: this.bus },
        log: silent,
        redact: redaction.redact,
      },
      {
        publicUrl: 'http://executor.test',
        policy: { windowMs: 60_000, baseDelayMs: 5, maxDelayMs: 20, attemptTimeoutMs: 5_000 },
        firstRound: { attempts: 3, maxMs: 2_000 },
      },
    );
    const providers: Providers = {
      author: this.author,
      foundation: async () => this.foundation,
      workspace: this.workspace,
      verifier: this.verifier,
      deployTarget: this.deployTarget,
      registry: this.registry,
      publisher: null,
      announcer: new ProbedAnnouncer(this.announcer, this.probe),
    };
    const runner = createRunner({
      store: this.store,
      ledger: this.ledger,
      providers,
      limits: { maxBuildIterations: options.maxBuildIterations ?? 3 },
      log: silent,
      redaction,
      maxBuildCostUsd: null,
    });
    const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
    // The runner, only watched: when each run of it started and returned.
    const watched: RunBuild = async (buildId, signal) => {
      count(this.runsStarted, buildId);
      try {
        await runner(buildId, signal);
      } finally {
        count(this.runsReturned, buildId);
      }
    };
    this.scheduler = new BuildScheduler(options.concurrency ?? 2, watched, async (buildId, error) => {
      this.runnerErrors.push({ buildId, error });
      await failCrashedBuild(this.store, buildId, error, redaction.redact);
    });
    const epoch = (options.epoch ?? new Date(Date.UTC(2026, 0, 1))).getTime();
    let created = 0;
    this.service = createBuildService({
      store: this.store,
      catalog: this.catalog,
      ledger: this.ledger,
      bus: this.bus,
      queue: this.scheduler,
      droplets: { idForName: async () => null, nameForId: async () => null, maxId: async () => 0 },
      notifyChannels: this.announcer.channels,
      log: silent,
      defaultEstimateSeconds: 60,
      maxBuildCostUsd: null,
      now: () => new Date(epoch + 1000 * created++),
      ...(options.namer && { namer: options.namer }),
    });
  }

  submit(input: Partial<SubmitBuildInput> = {}) {
    return this.service.submit({ architectIntent: INTENT, approvalMode: 'auto', autoDeploy: true, ...input });
  }

  /** Whether a run of the runner for this build has started and not yet returned. */
  isRunning(buildId: string): boolean {
    return (this.runsStarted.get(buildId) ?? 0) > (this.runsReturned.get(buildId) ?? 0);
  }

  record(buildId: string): BuildRecord {
    const build = this.store.tables.get(buildId);
    if (!build) throw new Error(`no build ${buildId}`);
    return build;
  }

  events(buildId: string): BuildEvent[] {
    return this.store.tables.journal.list(buildId, 0);
  }

  /** The journal's event types, `step.progress` and `notification.*` left out unless asked for. */
  types(buildId: string, options: { progress?: boolean; notifications?: boolean } = {}): BuildEventType[] {
    return this.events(buildId)
      .filter((event) => options.progress || event.type !== 'step.progress')
      .filter((event) => options.notifications || !event.type.startsWith('notification.'))
      .map((event) => event.type);
  }

  /** Step events as `type:step_number`, e.g. `step.started:4`; build events as their type (`notification.*` left out). */
  trail(buildId: string): string[] {
    return this.events(buildId)
      .filter((event) => event.type !== 'step.progress' && !event.type.startsWith('notification.'))
      .map((event) => ('step_number' in event.data && event.type.startsWith('step.') ? `${event.type}:${event.data.step_number}` : event.type));
  }

  /** How many times the journal says step N started. */
  starts(buildId: string, stepNumber: number): number {
    return this.events(buildId).filter((event) => event.type === 'step.started' && event.data.step_number === stepNumber).length;
  }

  /** Resolves once the build is in one of these statuses (checked on every event the bus delivers). */
  waitForStatus(buildId: string, wanted: BuildStatus | readonly BuildStatus[]): Promise<BuildRecord> {
    const statuses: readonly BuildStatus[] = typeof wanted === 'string' ? [wanted] : wanted;
    return new Promise((resolve, reject) => {
      let unsubscribe = () => {};
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`build ${buildId} is ${this.record(buildId).status}, never ${statuses.join('/')}: ${this.trail(buildId).join(' ')}`));
      }, 5_000);
      const check = () => {
        const build = this.store.tables.get(buildId);
        if (!build || !statuses.includes(build.status)) return false;
        clearTimeout(timer);
        unsubscribe();
        resolve(build);
        return true;
      };
      unsubscribe = this.bus.subscribe(buildId, () => void check());
      check();
    });
  }

  /** Resolves once nothing runs or waits in the scheduler for this build: its journal is final. */
  async idle(buildId: string): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (this.scheduler.isActive(buildId) || this.isRunning(buildId)) {
      if (Date.now() > deadline) throw new Error(`build ${buildId} still running: ${this.trail(buildId).join(' ')}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The status it reached, once the runner is done with it. */
  async settle(buildId: string, wanted: BuildStatus | readonly BuildStatus[]) {
    await this.waitForStatus(buildId, wanted);
    await this.idle(buildId);
    return this.service.get(buildId);
  }

  /** Start-up on this database: interrupted builds back to the queue, queued ones enqueued. */
  recover(): Promise<string[]> {
    return recoverBuilds(this.store, this.scheduler, silent);
  }

  /** A crash: the process stops mid-flight. Nothing is closed or aborted; no stub answers again. */
  abandon(): void {
    this.abandoned = true;
    this.probe.freeze();
  }

  async close(): Promise<void> {
    await this.scheduler.close();
    await this.announcer.close();
    this.db.close();
  }
}

/** Lets every pending callback run: a test checks that something has NOT happened yet. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A database file in a fresh temporary directory, and how to remove it. */
export function tempDatabaseFile(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'core-host-'));
  return { file: join(dir, 'executor.db'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Hosts a test file made, closed after each test. */
export function hosts() {
  const made: CoreHost[] = [];
  return {
    make(options?: CoreHostOptions): CoreHost {
      const host = new CoreHost(options);
      made.push(host);
      return host;
    },
    async closeAll(): Promise<void> {
      for (const host of made.splice(0)) {
        // An abandoned host's runner waits forever at a frozen stub: only its database is closed.
        // A test that failed with a step still held must not hang the next one either.
        if (!host.abandoned) await Promise.race([host.scheduler.close(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
        await host.announcer.close();
        if (host.db.open) host.db.close();
      }
    },
  };
}
