/**
 * Where a registered droplet came from, gathered for step 7: the build and its verified
 * commit, the SPEC's hash, the acceptance results of the verification, every approval
 * decision in the build's journal, the author and model, what the model calls cost, where
 * it is deployed, the repository and the version's tag.
 */
import { createHash } from 'node:crypto';
import type { BuildEvent } from '../../domain/events.js';
import type { Provenance } from '../../domain/ports/fleet-registry.js';
import type { DeployOutput, SpecOutput, VerifyOutput } from '../../domain/step-outputs.js';
import type { StepContext } from '../types.js';

/** Registries cap free text; the journal keeps the whole of it. */
const MAX_FEEDBACK = 5_000;
const MAX_SCENARIO_NAME = 500;

export interface ProvenanceInputs {
  verified: VerifyOutput;
  deployment: DeployOutput | undefined;
  spec: SpecOutput | undefined;
  tag: string;
}

export function approvalsOf(events: readonly BuildEvent[]): NonNullable<Provenance['approvals']> {
  const approvals: NonNullable<Provenance['approvals']> = [];
  for (const event of events) {
    if (event.type !== 'build.approved' && event.type !== 'build.rejected') continue;
    approvals.push({
      gate: event.data.gate,
      decision: event.type === 'build.approved' ? 'approved' : 'rejected',
      feedback: event.data.feedback === null ? null : event.data.feedback.slice(0, MAX_FEEDBACK),
      at: event.at,
    });
  }
  return approvals;
}

function acceptanceOf(verified: VerifyOutput): Provenance['acceptance'] | undefined {
  const scenarios = verified.report.acceptance;
  if (!scenarios) return undefined;
  const passed = scenarios.filter((scenario) => scenario.passed).length;
  return {
    passed,
    failed: scenarios.length - passed,
    total: scenarios.length,
    scenarios: scenarios.map((scenario) => ({ name: scenario.name.slice(0, MAX_SCENARIO_NAME), passed: scenario.passed })),
  };
}

export async function gatherProvenance(context: Pick<StepContext, 'build' | 'providers' | 'events' | 'usage'>, inputs: ProvenanceInputs): Promise<Provenance> {
  const { build, providers } = context;
  const { verified, deployment, spec, tag } = inputs;
  const acceptance = acceptanceOf(verified);
  return {
    build_id: build.id,
    commit: verified.commit,
    ...(spec ? { spec_sha256: createHash('sha256').update(spec.spec).digest('hex') } : {}),
    ...(acceptance ? { acceptance } : {}),
    approvals: approvalsOf(await context.events()),
    author: { id: providers.author.id, model: providers.author.status?.().model ?? null },
    // A build that made no model calls cost nothing.
    cost_usd: (await context.usage())?.cost_usd ?? 0,
    deployed: { url: deployment?.url ?? null, host: deployment?.host ?? null },
    tag,
    repository_url: build.repositoryUrl,
  };
}
