/**
 * The SQLite tables of builds and their steps, and the synchronous primitives the
 * store's intention-named operations (build-store.ts) are made of. Every mutation is
 * a conditional update plus its journal events in one transaction; events are
 * published only after the commit, so a live subscriber never sees a change that
 * was rolled back.
 */
import { type ApprovalMode, type BuildStatus, type StepName, STEP_NAMES, type StepStatus } from '../domain/build.js';
import { ConflictError } from '../domain/errors.js';
import type { BuildEvent, EventDraft } from '../domain/events.js';
import type { BuildLocations, BuildRecord, NewBuild, StepRecord } from '../domain/records.js';
import type { ErrorInfo, PendingApproval } from '../domain/status.js';
import { BUILD_TRANSITIONS, type BuildTransition, STEP_TRANSITIONS, type StepTransition } from '../domain/transitions.js';
import { type Db, fromJson, toJson } from './db.js';
import { EventJournal } from './events.js';

export type Row = Record<string, unknown>;

export function toBuild(row: Row): BuildRecord {
  return {
    id: row.id as string,
    dropletId: row.droplet_id as number,
    dropletName: row.droplet_name as string,
    intent: row.architect_intent as string,
    approvalMode: row.approval_mode as ApprovalMode,
    autoDeploy: row.auto_deploy === 1,
    notifyChannels: fromJson<string[]>(row.notify_channels),
    status: row.status as BuildStatus,
    currentStep: row.current_step as number,
    createdAt: row.created_at as string,
    startedAt: (row.started_at as string | null) ?? null,
    completedAt: (row.completed_at as string | null) ?? null,
    estimatedSeconds: row.estimated_seconds as number,
    maxCostUsd: (row.max_cost_usd as number | null) ?? null,
    deployHost: (row.deploy_host as string | null) ?? null,
    repositoryPath: (row.repository_path as string | null) ?? null,
    repositoryUrl: (row.repository_url as string | null) ?? null,
    deploymentUrl: (row.deployment_url as string | null) ?? null,
    pendingApproval: fromJson<PendingApproval>(row.pending_approval),
    error: fromJson<ErrorInfo>(row.error),
  };
}

function toStep(row: Row): StepRecord {
  return {
    buildId: row.build_id as string,
    stepNumber: row.step_number as number,
    name: row.name as StepName,
    status: row.status as StepStatus,
    startedAt: (row.started_at as string | null) ?? null,
    completedAt: (row.completed_at as string | null) ?? null,
    details: fromJson<Record<string, unknown>>(row.details) ?? {},
    output: row.output === undefined ? null : fromJson<unknown>(row.output),
    error: fromJson<ErrorInfo>(row.error),
  };
}

const now = () => new Date().toISOString();

export class BuildTables {
  readonly journal: EventJournal;
  // The status route reads these on every request: prepared once.
  private readonly selectBuild;
  private readonly selectSteps;
  private readonly selectStepsWithOutput;
  private readonly versions = new Map<string, number>();
  private nextVersion = 1;

  constructor(
    private readonly db: Db,
    private readonly publish: (event: BuildEvent) => void,
  ) {
    this.journal = new EventJournal(db);
    this.selectBuild = db.prepare<[string], Row>('SELECT * FROM builds WHERE id = ?');
    this.selectSteps = db.prepare<[string], Row>(
      'SELECT build_id, step_number, name, status, started_at, completed_at, details, error FROM build_steps WHERE build_id = ? ORDER BY step_number',
    );
    this.selectStepsWithOutput = db.prepare<[string], Row>('SELECT * FROM build_steps WHERE build_id = ? ORDER BY step_number');
  }

  /**
   * Runs `change` in one transaction; the drafts it returns become journal events
   * in the same transaction and are published after the commit.
   */
  change(buildId: string, change: () => EventDraft[]): BuildEvent[] {
    const events = this.db.transaction(() => change().map((draft) => this.journal.append(buildId, draft)))();
    this.touch(buildId);
    for (const event of events) this.publish(event);
    return events;
  }

  /**
   * A number that changes whenever the build or its steps change, so readers can cache
   * what they derive from it. Sound because one executor process owns its database.
   */
  versionOf(buildId: string): number | undefined {
    return this.versions.get(buildId);
  }

  /** The version of a build known to exist, assigning one on first sight (e.g. after a restart). */
  ensureVersion(buildId: string): number {
    const version = this.versions.get(buildId);
    if (version !== undefined) return version;
    this.touch(buildId);
    return this.versions.get(buildId)!;
  }

  private touch(buildId: string): void {
    this.versions.set(buildId, this.nextVersion++);
  }

  /** An UPDATE that must touch exactly one row; otherwise the state moved under us. */
  private expectOne(sql: string, params: unknown[], conflict: string): void {
    if (this.db.prepare(sql).run(...params).changes !== 1) throw new ConflictError(conflict);
  }

  /**
   * Inserts the build and its eight pending steps. `idFor` is asked again with a
   * suffix until the id is free, so two builds in the same second never collide.
   * `guard` runs first in the same transaction and may refuse by throwing.
   */
  insert(build: NewBuild, idFor: (attempt: number) => string, firstEvent: EventDraft, guard?: () => void): BuildRecord {
    let id = '';
    const events = this.db.transaction(() => {
      guard?.();
      const taken = this.db.prepare('SELECT 1 FROM builds WHERE id = ?');
      for (let attempt = 1; ; attempt += 1) {
        id = idFor(attempt);
        if (!taken.get(id)) break;
      }
      this.db
        .prepare(
          `INSERT INTO builds (id, droplet_id, droplet_name, architect_intent, approval_mode, auto_deploy,
             notify_channels, status, current_step, created_at, estimated_seconds, max_cost_usd, deploy_host)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', 1, ?, ?, ?, ?)`,
        )
        .run(id, build.dropletId, build.dropletName, build.intent, build.approvalMode, build.autoDeploy ? 1 : 0,
          toJson(build.notifyChannels), build.createdAt, build.estimatedSeconds, build.maxCostUsd ?? null, build.deployHost ?? null);
      const step = this.db.prepare(`INSERT INTO build_steps (build_id, step_number, name, status) VALUES (?, ?, ?, 'pending')`);
      STEP_NAMES.forEach((name, index) => step.run(id, index + 1, name));
      return [this.journal.append(id, firstEvent)];
    })();
    for (const event of events) this.publish(event);
    return this.get(id)!;
  }

  get(id: string): BuildRecord | null {
    const row = this.selectBuild.get(id);
    return row ? toBuild(row) : null;
  }

  /** The steps as clients see them; `output` (what later steps read) only when asked for. */
  steps(id: string, options: { withOutput?: boolean } = {}): StepRecord[] {
    return (options.withOutput ? this.selectStepsWithOutput : this.selectSteps).all(id).map(toStep);
  }

  // ---- state transitions (call inside change()) ----

  /** Applies a transition of the build table; the build must be in one of its `from` states. */
  move(id: string, transition: BuildTransition, extra: Partial<Record<'error' | 'pending_approval', unknown>> = {}): void {
    const { from, to } = BUILD_TRANSITIONS[transition];
    this.setStatus(id, from, to, extra);
  }

  /** Applies a transition of the step table. */
  moveStep(id: string, stepNumber: number, transition: StepTransition, fields: { details?: Record<string, unknown>; output?: unknown; error?: ErrorInfo | null } = {}): void {
    const { from, to } = STEP_TRANSITIONS[transition];
    this.setStepStatus(id, stepNumber, from, to, fields);
  }

  private setStatus(id: string, from: readonly BuildStatus[], to: BuildStatus, extra: Partial<Record<'error' | 'pending_approval', unknown>> = {}): void {
    const at = now();
    const terminal = to === 'completed' || to === 'failed' || to === 'cancelled';
    this.expectOne(
      `UPDATE builds SET status = ?,
         started_at = CASE WHEN ? = 'in_progress' THEN coalesce(started_at, ?) ELSE started_at END,
         completed_at = CASE WHEN ? THEN ? ELSE NULL END,
         error = ?, pending_approval = ?
       WHERE id = ? AND status IN (${from.map(() => '?').join(', ')})`,
      [to, to, at, terminal ? 1 : 0, at, toJson(extra.error), toJson(extra.pending_approval), id, ...from],
      `Build ${id} is no longer ${from.join(' or ')}.`,
    );
  }

  private setStepStatus(
    id: string,
    stepNumber: number,
    from: readonly StepStatus[],
    to: StepStatus,
    fields: { details?: Record<string, unknown>; output?: unknown; error?: ErrorInfo | null } = {},
  ): void {
    const at = now();
    this.expectOne(
      `UPDATE build_steps SET status = ?,
         started_at = CASE WHEN ? = 'in_progress' THEN ? WHEN ? = 'pending' THEN NULL ELSE started_at END,
         completed_at = CASE WHEN ? IN ('completed', 'failed', 'skipped', 'cancelled') THEN ? ELSE NULL END,
         details = coalesce(?, details), output = coalesce(?, output), error = ?
       WHERE build_id = ? AND step_number = ? AND status IN (${from.map(() => '?').join(', ')})`,
      [to, to, at, to, to, at, toJson(fields.details), toJson(fields.output), toJson(fields.error), id, stepNumber, ...from],
      `Step ${stepNumber} of ${id} is no longer ${from.join(' or ')}.`,
    );
    if (to === 'in_progress') this.db.prepare('UPDATE builds SET current_step = ? WHERE id = ?').run(stepNumber, id);
  }

  /** Clears steps from `fromStep` on, so they run again (retry). */
  resetStepsFrom(id: string, fromStep: number): void {
    this.db
      .prepare(
        `UPDATE build_steps SET status = 'pending', started_at = NULL, completed_at = NULL, details = NULL, output = NULL, error = NULL
         WHERE build_id = ? AND step_number >= ?`,
      )
      .run(id, fromStep);
    this.db.prepare('DELETE FROM approvals WHERE build_id = ? AND step_number >= ?').run(id, fromStep);
    this.db.prepare('UPDATE builds SET current_step = ? WHERE id = ?').run(fromStep, id);
  }

  /** A retry may raise (or lower) the build's own cost cap. */
  setMaxCost(id: string, maxCostUsd: number): void {
    this.db.prepare('UPDATE builds SET max_cost_usd = ? WHERE id = ?').run(maxCostUsd, id);
  }

  /** The step running now, if any (a build runs one step at a time). */
  stepInProgress(id: string): number | null {
    const row = this.db.prepare(`SELECT step_number FROM build_steps WHERE build_id = ? AND status = 'in_progress' LIMIT 1`).get(id) as
      | { step_number: number }
      | undefined;
    return row?.step_number ?? null;
  }

  /** A step interrupted by a crash or a restart goes back to pending (a cancel marks it `cancelled` instead). */
  resetInProgressSteps(id: string): void {
    this.db
      .prepare(`UPDATE build_steps SET status = 'pending', started_at = NULL WHERE build_id = ? AND status = 'in_progress'`)
      .run(id);
  }

  setLocations(id: string, fields: BuildLocations): void {
    const sets: string[] = [];
    const params: unknown[] = [];
    if (fields.repositoryPath !== undefined) {
      sets.push('repository_path = ?');
      params.push(fields.repositoryPath);
    }
    if (fields.repositoryUrl !== undefined) {
      sets.push('repository_url = ?');
      params.push(fields.repositoryUrl);
    }
    if (fields.deploymentUrl !== undefined) {
      sets.push('deployment_url = ?');
      params.push(fields.deploymentUrl);
    }
    // Only a running build moves: a step finishing after a cancel must not write onto it.
    if (sets.length > 0) this.db.prepare(`UPDATE builds SET ${sets.join(', ')} WHERE id = ? AND status = 'in_progress'`).run(...params, id);
    this.touch(id);
  }

  recordApproval(id: string, gate: string, stepNumber: number, approved: boolean, feedback: string | null): void {
    this.db
      .prepare('INSERT INTO approvals (build_id, gate, step_number, approved, feedback, decided_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, gate, stepNumber, approved ? 1 : 0, feedback, now());
  }

  isApproved(id: string, stepNumber: number): boolean {
    const row = this.db.prepare('SELECT approved FROM approvals WHERE build_id = ? AND step_number = ?').get(id, stepNumber) as
      | { approved: number }
      | undefined;
    return row?.approved === 1;
  }

  /**
   * Inside change(): the build must be where `transition` can start from (a step of a
   * build moves only while the build itself could still `complete`). The conflict names
   * the build's state before anything is written.
   */
  requireMovable(id: string, transition: BuildTransition): BuildRecord {
    return this.requireStatus(id, BUILD_TRANSITIONS[transition].from);
  }

  private requireStatus(id: string, statuses: readonly BuildStatus[]): BuildRecord {
    const build = this.get(id);
    if (!build || !statuses.includes(build.status)) {
      throw new ConflictError(`Build ${id} is ${build?.status ?? 'gone'}, not ${statuses.join(' or ')}.`, { status: build?.status ?? null });
    }
    return build;
  }

  /** A queued, running or waiting build of this droplet (they share one repository). */
  unfinishedBuildOf(dropletId: number, exceptBuildId = ''): string | null {
    const row = this.db
      .prepare(`SELECT id FROM builds WHERE droplet_id = ? AND id <> ? AND status IN ('queued', 'in_progress', 'waiting_approval') LIMIT 1`)
      .get(dropletId, exceptBuildId) as { id: string } | undefined;
    return row?.id ?? null;
  }

  idsWithStatus(statuses: readonly BuildStatus[]): string[] {
    return (
      this.db
        .prepare(`SELECT id FROM builds WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY created_at, rowid`)
        .all(...statuses) as { id: string }[]
    ).map((row) => row.id);
  }
}
