/**
 * A model's SPEC and its proof, through the real SDKs and the real executor, for both
 * providers: an invalid docs/acceptance.json or docs/openapi.json goes back to the model
 * once with the reason; a second invalid one fails the step and says why. Builds run in
 * `checkpoints` mode and stop at the gate after the SPEC, where the scenarios and the
 * operations are shown.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BuildView } from '../../src/domain/status.js';
import { api, waitForStatus } from '../support/executor.js';
import { type FaultHost, SPEC, startFaultHost } from '../support/model-fault-host.js';
import { specAnswer, taskOf, taskText } from '../support/model-script.js';
import { minimalAcceptance, minimalProof } from '../support/spec-proof.js';

const providers = [
  ['anthropic', (url: string) => ({ ANTHROPIC_API_KEY: 'sk-ant-proof-test', ANTHROPIC_BASE_URL: url })],
  ['openai', (url: string) => ({ MODEL_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-proof-test', OPENAI_BASE_URL: `${url}/v1`, OPENAI_MODEL: 'gpt-test' })],
] as const;

const strayAcceptance = () => {
  const file = minimalAcceptance() as { scenarios: { steps: unknown[] }[] };
  file.scenarios[0]!.steps.push({ request: { method: 'GET', path: '/reports' }, expect: { status: 200 } });
  return JSON.stringify(file);
};
const STRAY_REASON = 'scenario "the droplet says it is healthy" step 2 requests GET /reports, which docs/openapi.json does not list';

describe.each(providers)('the SPEC proof of a %s model', (_provider, env) => {
  let host: FaultHost;
  beforeAll(async () => {
    host = await startFaultHost(env, 'Proof Keeper');
  });
  beforeEach(() => host.model.clearQueue());
  afterAll(async () => {
    await host?.close();
  });

  it('sends an invalid proof back once with the reason, and shows the fixed one at the gate', async () => {
    host.model.enqueue(specAnswer(SPEC, { ...minimalProof(), acceptance: strayAcceptance() }), specAnswer(SPEC));
    const { buildId, first } = await host.specBuild();
    const waiting: BuildView = await waitForStatus(host.server.baseUrl, buildId, ['waiting_approval']);
    const [asked, askedAgain] = host.model.requests.slice(first);
    expect([taskOf(asked!), taskOf(askedAgain!)]).toEqual(['spec', 'spec']);
    expect(taskText(asked!)).not.toContain('could not be accepted');
    expect(taskText(askedAgain!)).toContain(`Your previous answer could not be accepted: ${STRAY_REASON}. Write all three files again, fixed.`);
    expect(waiting.pending_approval).toMatchObject({ gate: 'after_spec' });
    expect(waiting.steps[1]!.details).toMatchObject({
      spec: SPEC,
      scenarios: [{ name: 'the droplet says it is healthy', covers: 'a droplet' }],
      operations: expect.arrayContaining([expect.objectContaining({ method: 'POST', path: '/message', udc: true })]) as unknown,
    });
    const messages = (await host.events(buildId)).flatMap((event) => (event.type === 'step.progress' ? [event.data.message] : []));
    expect(messages).toContain("the SPEC's proof files are invalid; asking the author again with the reason");
    // The droplet is free again for the next test's build.
    expect((await api(host.server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' })).status).toBe(200);
    await waitForStatus(host.server.baseUrl, buildId, ['cancelled']);
  });

  it('fails the SPEC step with INVALID_SPEC_PROOF when the second proof is invalid too, and writes no repository', async () => {
    host.model.enqueue(specAnswer(SPEC, { ...minimalProof(), openapi: '{"openapi": "3.0.3"}' }), specAnswer(SPEC, { ...minimalProof(), openapi: '{"openapi": "3.0.3"}' }));
    const { buildId } = await host.specBuild();
    const failed: BuildView = await waitForStatus(host.server.baseUrl, buildId, ['failed']);
    expect(failed.error).toMatchObject({
      code: 'INVALID_SPEC_PROOF',
      message: 'The SPEC\'s proof files are still invalid after one send-back: docs/openapi.json must be OpenAPI 3.1 ("openapi": "3.1.0"), not "3.0.3"',
      retryable: true,
    });
    expect(failed.steps[2]!.status).toBe('pending');
  });

  it('treats a SPEC answer without its proof files as an invalid proof, naming the missing file', async () => {
    const bare = { kind: 'message' as const, content: [{ type: 'tool_use' as const, name: 'write_file', input: { path: 'docs/SPEC.md', content: SPEC } }], stop_reason: 'tool_use' as const };
    host.model.enqueue(bare, bare);
    const { buildId } = await host.specBuild();
    const failed: BuildView = await waitForStatus(host.server.baseUrl, buildId, ['failed']);
    expect(failed.error?.message).toBe("The SPEC's proof files are still invalid after one send-back: docs/acceptance.json is missing or empty");
  });
});
