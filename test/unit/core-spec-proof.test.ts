/**
 * Core tier: the SPEC step checks the SPEC's proof (docs/openapi.json and
 * docs/acceptance.json), sends an invalid one back to the author once with the reason,
 * then fails clearly; an auto build whose SPEC serves nothing of the intent fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withoutSpecDocuments } from '../../src/domain/files.js';
import { failingReport, hosts } from '../support/core-host.js';
import { minimalAcceptance, minimalOpenApi, minimalProof } from '../support/spec-proof.js';

const made = hosts();
afterEach(() => made.closeAll());

const withoutMessage = () => {
  const document = minimalOpenApi() as { paths: Record<string, unknown> };
  delete document.paths['/message'];
  return JSON.stringify(document);
};

describe('the SPEC step and the SPEC proof', () => {
  it('sends an invalid proof back once with the reason, and goes on with the fixed one', async () => {
    const host = made.make();
    host.author.proof = (request) => (request.previousAnswerError ? minimalProof() : { ...minimalProof(), openapi: withoutMessage() });
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'completed');
    expect(host.author.specRequests).toHaveLength(2);
    expect(host.author.specRequests[0]!.previousAnswerError).toBeUndefined();
    expect(host.author.specRequests[1]!.previousAnswerError).toBe('docs/openapi.json does not list the UDC endpoint POST /message');
    expect(view.steps[1]!.details).toMatchObject({ scenarios: [{ name: 'the droplet says it is healthy' }] });
    const progress = host.events(id).flatMap((event) => (event.type === 'step.progress' && event.data.step_number === 2 ? [event.data.message] : []));
    expect(progress).toContain("the SPEC's proof files are invalid; asking the author again with the reason");
  });

  it('fails the step with INVALID_SPEC_PROOF when the proof is invalid twice, naming why', async () => {
    const host = made.make();
    const acceptance = JSON.stringify({ scenarios: [{ name: 'x', covers: 'y', steps: [{ request: { method: 'GET', path: 'health' }, expect: { status: 200 } }] }] });
    host.author.proof = () => ({ ...minimalProof(), acceptance });
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(host.author.specRequests).toHaveLength(2);
    expect(view.error).toMatchObject({ code: 'INVALID_SPEC_PROOF', retryable: true, details: { step: 'spec_generation' } });
    expect(view.error!.message).toMatch(/^The SPEC's proof files are still invalid after one send-back: docs\/acceptance\.json: scenarios\.0\.steps\.0\.request\.path: must be a path on the droplet/);
    expect(host.probe.entered.coordinator_package).toBe(0);
  });

  it('refuses scenarios that request what the OpenAPI document does not list, and operations no scenario requests', async () => {
    const host = made.make();
    const stray = minimalAcceptance() as { scenarios: { steps: unknown[] }[] };
    stray.scenarios[0]!.steps.push({ request: { method: 'GET', path: '/reports' }, expect: { status: 200 } });
    const unreached = minimalOpenApi() as { paths: Record<string, unknown> };
    unreached.paths['/reports'] = { get: { responses: { '200': { description: 'Reports.' } } } };
    host.author.proof = (request) => (request.previousAnswerError
      ? { ...minimalProof(), openapi: JSON.stringify(unreached) }
      : { ...minimalProof(), acceptance: JSON.stringify(stray) });
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'failed');
    expect(host.author.specRequests[1]!.previousAnswerError).toBe('scenario "the droplet says it is healthy" step 2 requests GET /reports, which docs/openapi.json does not list');
    expect(view.error!.message).toContain('no acceptance scenario requests GET /reports (docs/openapi.json lists them)');
  });

  it('fails an auto build whose SPEC covers nothing of the intent, naming the words it could not use', async () => {
    const host = made.make();
    const proof = minimalProof();
    host.author.proof = () => ({ ...proof, coverage: { covered: [], not_covered: ['quantum entanglement'] } });
    const { build_id: id } = await host.submit({ approvalMode: 'auto' });
    const view = await host.settle(id, 'failed');
    expect(view.error).toMatchObject({ code: 'INTENT_NOT_COVERED', retryable: false });
    expect(view.error!.message).toContain('"quantum entanglement"');
  });

  it('lets a build with a checkpoint go on to the gate even when nothing is covered: a person reviews it there', async () => {
    const host = made.make();
    host.author.proof = () => ({ ...minimalProof(), coverage: { covered: [], not_covered: ['quantum entanglement'] } });
    const { build_id: id } = await host.submit({ approvalMode: 'checkpoints' });
    const view = await host.settle(id, 'waiting_approval');
    expect(view.steps[1]!.details).toMatchObject({ intent_coverage: { covered: [], not_covered: ['quantum entanglement'] } });
  });
});

describe("the SPEC's documents after the SPEC step", () => {
  it('are not the code\'s or a repair\'s to change: such writes are left out and said so', async () => {
    const host = made.make();
    host.author.extraCode = [{ kind: 'write', path: 'docs/acceptance.json', content: '{"scenarios": []}\n' }];
    host.author.extraRepair = [{ kind: 'write', path: './docs//openapi.json', content: '{}\n' }, { kind: 'delete', path: 'docs/SPEC.md' }];
    host.verifier.script.push(failingReport());
    const { build_id: id } = await host.submit();
    await host.settle(id, 'completed');
    const repo = host.workspace.repoFor({ dropletId: 1, name: 'analytics-engine' });
    const proof = host.author.proof(host.author.specRequests[0]!);
    expect(repo.files.get('docs/acceptance.json')).toBe(proof.acceptance);
    expect(repo.files.get('docs/openapi.json')).toBe(proof.openapi);
    expect(repo.files.has('docs/SPEC.md')).toBe(true);
    expect(repo.files.get('src/server.js')).toBe('// repaired after attempt 1\n');
    const messages = host.events(id).flatMap((event) => (event.type === 'step.progress' ? [event.data.message] : []));
    expect(messages).toContain("left the SPEC's documents as approved; not written: docs/acceptance.json");
    expect(messages).toContain("the repair may not change the SPEC's documents; not written: ./docs//openapi.json, docs/SPEC.md");
  });
});

describe('withoutSpecDocuments (security review)', () => {
  it('catches every path form the repository would write to a SPEC document', () => {
    const forms = ['docs\\SPEC.md', 'src/../docs/openapi.json', 'docs/x/../acceptance.json', 'DOCS/Acceptance.JSON', './docs//SPEC.md'];
    const { kept, refused } = withoutSpecDocuments([...forms.map((path) => ({ kind: 'delete' as const, path })), { kind: 'write', path: 'docs/NOTES.md', content: 'x' }]);
    expect(refused).toEqual(forms);
    expect(kept.map((change) => change.path)).toEqual(['docs/NOTES.md']);
  });
});
