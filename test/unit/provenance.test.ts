/** What step 7 records of where a droplet came from (pure: events, outputs and providers in, provenance out). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildRecord } from '../../src/domain/records.js';
import type { VerifyOutput } from '../../src/domain/step-outputs.js';
import { approvalsOf, gatherProvenance } from '../../src/pipeline/steps/provenance.js';
import type { Providers } from '../../src/pipeline/types.js';

const event = (seq: number, type: BuildEvent['type'], data: Record<string, unknown>, at: string) => ({ seq, build_id: 'b-1', type, data, at }) as BuildEvent;

const journal: BuildEvent[] = [
  event(1, 'build.queued', { droplet_id: 3, droplet_name: 'recipe-box', approval_mode: 'checkpoints' }, '2026-01-01T00:00:00.000Z'),
  event(2, 'build.waiting_approval', { gate: 'after_spec', step_number: 2, summary: 'Review the SPEC' }, '2026-01-01T00:00:10.000Z'),
  event(3, 'build.rejected', { gate: 'after_spec', step_number: 2, feedback: 'Add tags' }, '2026-01-01T00:01:00.000Z'),
  event(4, 'build.retried', { from_step: 2 }, '2026-01-01T00:02:00.000Z'),
  event(5, 'build.approved', { gate: 'after_spec', step_number: 2, feedback: null }, '2026-01-01T00:03:00.000Z'),
  event(6, 'build.approved', { gate: 'before_deploy', step_number: 6, feedback: 'x'.repeat(6_000) }, '2026-01-01T00:04:00.000Z'),
];

describe('provenance', () => {
  it('lists every approval decision of the journal in order, feedback capped', () => {
    const approvals = approvalsOf(journal);
    expect(approvals.map(({ gate, decision, at }) => [gate, decision, at])).toEqual([
      ['after_spec', 'rejected', '2026-01-01T00:01:00.000Z'],
      ['after_spec', 'approved', '2026-01-01T00:03:00.000Z'],
      ['before_deploy', 'approved', '2026-01-01T00:04:00.000Z'],
    ]);
    expect(approvals[0]!.feedback).toBe('Add tags');
    expect(approvals[1]!.feedback).toBeNull();
    expect(approvals[2]!.feedback).toHaveLength(5_000);
  });

  it('gathers build, commit, SPEC hash, acceptance, approvals, author and model, cost, deployment, repository and tag', async () => {
    const verified: VerifyOutput = {
      commit: 'c'.repeat(40),
      attempts: 1,
      report: {
        passed: true, stage: 'contract', summary: 'ok', childProcessMs: 0,
        acceptance: [
          { name: 'lists recipes', covers: 'GET /recipes', passed: true, failedStep: null, expected: '', got: '' },
          { name: 'adds a recipe', covers: 'POST /recipes', passed: true, failedStep: null, expected: '', got: '' },
        ],
      },
    };
    const build = { id: 'b-1', repositoryUrl: '/srv/git/recipe-box.git' } as BuildRecord;
    const providers = { author: { id: 'anthropic', status: () => ({ provider: 'anthropic', model: 'claude-x', api: 'ok', last_call_at: null, last_error: null }) } } as unknown as Providers;
    const provenance = await gatherProvenance(
      { build, providers, events: async () => journal, usage: async () => ({ input_tokens: 1, output_tokens: 2, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: 0.0421 }) },
      { verified, spec: { spec: '# SPEC\n' }, deployment: { url: 'http://127.0.0.1:41003', host: 'local' } as never, tag: 'v1.1.0' },
    );
    expect(provenance).toEqual({
      build_id: 'b-1',
      commit: 'c'.repeat(40),
      spec_sha256: createHash('sha256').update('# SPEC\n').digest('hex'),
      acceptance: { passed: 2, failed: 0, total: 2, scenarios: [{ name: 'lists recipes', passed: true }, { name: 'adds a recipe', passed: true }] },
      approvals: approvalsOf(journal),
      author: { id: 'anthropic', model: 'claude-x' },
      cost_usd: 0.0421,
      deployed: { url: 'http://127.0.0.1:41003', host: 'local' },
      tag: 'v1.1.0',
      repository_url: '/srv/git/recipe-box.git',
    });
  });
});
