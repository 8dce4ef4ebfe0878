/**
 * Through the real API and the offline author: a droplet submitted without a name is
 * named from its intent's main noun phrase, an intent the reader cannot read gets the
 * fallback name, and the status says what of the intent the SPEC covers (a vague intent
 * in auto mode fails, naming what it could not use).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

let server: TestExecutor;
beforeAll(async () => {
  server = await startExecutor();
});
afterAll(async () => {
  await server?.close();
});

describe('intent coverage through the API', () => {
  it('names a droplet from its intent and shows the coverage at the SPEC gate', async () => {
    const buildId = await submitBuild(server.baseUrl, {
      architect_intent: 'I want to keep track of my books and the people I lend them to',
      approval_mode: 'checkpoints',
      auto_deploy: false,
    });
    const view = await waitForStatus(server.baseUrl, buildId, ['waiting_approval']);
    expect(view.droplet_name).toBe('book-tracker');
    expect(view.intent_coverage).toEqual({ covered: ['books', 'people'], not_covered: ['the people i lend them to'] });
    expect(view.steps[1]!.details).toMatchObject({ intent_coverage: view.intent_coverage });
    expect(String(view.steps[1]!.details.spec)).toContain('## Not covered');
    await api(server.baseUrl, `/executor/builds/${buildId}`, { method: 'DELETE' });
  });

  it('gives an intent it cannot read the fallback name, and an auto build of it fails naming the intent', async () => {
    const intent = 'Créer un service de gestion des factures';
    const buildId = await submitBuild(server.baseUrl, { architect_intent: intent, approval_mode: 'auto', auto_deploy: false });
    const view = await waitForStatus(server.baseUrl, buildId, ['failed']);
    expect(view.droplet_name).toMatch(/^droplet-[0-9a-f]{6}$/);
    expect(view.error).toMatchObject({ code: 'INTENT_NOT_COVERED' });
    expect(view.error!.message).toContain(`"${intent}"`);
    expect(view.intent_coverage).toEqual({ covered: [], not_covered: [intent] });
  });
});
