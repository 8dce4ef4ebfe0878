/** The vocabulary of a build, shared by every layer. Pure data: no I/O here. */

export const STEP_NAMES = [
  'intent',
  'spec_generation',
  'coordinator_package',
  'apprentice_build',
  'verifier',
  'deployer',
  'registry_update',
  'complete',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Human labels, shown in status objects and notifications. */
export const STEP_LABELS: Record<StepName, string> = {
  intent: 'Intent',
  spec_generation: 'SPEC generation',
  coordinator_package: 'Coordinator package',
  apprentice_build: 'Apprentice build',
  verifier: 'Verifier',
  deployer: 'Deployer',
  registry_update: 'Registry update',
  complete: 'Complete',
};

export const STEP_COUNT = STEP_NAMES.length;

export function stepNumberOf(name: StepName): number {
  return STEP_NAMES.indexOf(name) + 1;
}

export function stepNameAt(stepNumber: number): StepName {
  const name = STEP_NAMES[stepNumber - 1];
  if (!name) throw new RangeError(`No step number ${stepNumber}`);
  return name;
}

export const BUILD_STATUSES = ['queued', 'in_progress', 'waiting_approval', 'completed', 'failed', 'cancelled'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];
export const TERMINAL_BUILD_STATUSES: readonly BuildStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * `cancelled`: the step that was running, or the gate's step the build waited at, when the
 * build was cancelled or rejected; steps never reached stay `pending`.
 */
export const STEP_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const APPROVAL_MODES = ['auto', 'checkpoints', 'final'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

export type GateName = 'after_spec' | 'before_deploy';

export interface Gate {
  name: GateName;
  /** The gate is passed (approved) before this step may start. */
  beforeStep: number;
}

const AFTER_SPEC: Gate = { name: 'after_spec', beforeStep: stepNumberOf('coordinator_package') };
const BEFORE_DEPLOY: Gate = { name: 'before_deploy', beforeStep: stepNumberOf('deployer') };

/** `checkpoints` waits after step 2 and before step 6; `final` before step 6; `auto` never. */
export function gatesFor(mode: ApprovalMode): readonly Gate[] {
  switch (mode) {
    case 'auto':
      return [];
    case 'final':
      return [BEFORE_DEPLOY];
    case 'checkpoints':
      return [AFTER_SPEC, BEFORE_DEPLOY];
  }
}

export function gateBefore(mode: ApprovalMode, stepNumber: number): Gate | undefined {
  return gatesFor(mode).find((gate) => gate.beforeStep === stepNumber);
}

/** A droplet: one small service in the fleet, identified by id and kebab-case name. */
export interface DropletIdentity {
  dropletId: number;
  name: string;
}

export const DROPLET_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
