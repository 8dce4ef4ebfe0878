/**
 * The dashboard at GET /, in headless Chromium against a real executor: an intent
 * submitted through the form, its steps turning green live over the WebSocket, the gate
 * approved from the page, the deployed URL with its health and the acceptance results;
 * a build that needed one repair, with that repair's diff; and, behind API_TOKEN, the
 * token prompt. Every page shown is checked with axe-core against WCAG 2.x A and AA. Screenshots go to test-artifacts/dashboard/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildView } from '../../src/domain/status.js';
import { packageRoot } from '../../src/http/dashboard.js';
import { accessibilityViolations, launchBrowser, screenshot, type TestBrowser } from '../support/browser.js';
import { RouteDroppingAuthor } from '../support/route-dropping-author.js';
import { api, startExecutor, submitBuild, type TestExecutor, waitForStatus } from '../support/executor.js';

const BUILD_TIMEOUT = 180_000;

let browser: TestBrowser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const stepState = (page: Page, step: string) => page.locator(`[data-step="${step}"]`).getAttribute('data-status');

/** Waits until the step's element shows `status` (the page re-renders it in place). */
async function waitForStepState(page: Page, step: string, status: string, timeout = BUILD_TIMEOUT): Promise<void> {
  await page.locator(`[data-step="${step}"][data-status="${status}"]`).waitFor({ timeout });
}

describe('dashboard', () => {
  let server: TestExecutor;
  beforeAll(async () => {
    server = await startExecutor();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('submits an intent, shows the steps turning green live, approves at the gate, shows the deployment and acceptance results, and rolls back a droplet', async () => {
    const page = await browser.newPage();
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });
    await page.goto(`${server.baseUrl}/`);
    await page.getByRole('heading', { name: 'Builds', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'New build' }).first().click();

    await page.getByLabel('Intent').fill('Build Inventory Tracker for warehouse stock levels');
    await page.getByLabel('Approval mode').selectOption('final');
    await page.getByLabel('Droplet name (optional)').fill('stock-dashboard');
    await screenshot(page, 'new-build-form');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Start build' }).click();
    await page.waitForURL(/#\/builds\/build-/);
    const buildId = decodeURIComponent(new URL(page.url()).hash.replace('#/builds/', ''));
    const navigationsOnBuildPage = navigations;

    // The verifier runs npm and the droplet's tests: it is pending when the page opens and
    // turns completed later, while the page stays open.
    await waitForStepState(page, 'verifier', 'pending', 30_000);
    await page.evaluate(() => {
      (window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true;
    });
    await waitForStepState(page, 'verifier', 'completed');
    expect(await stepState(page, 'intent')).toBe('completed');

    // The final gate: the deployer waits for approval.
    const gate = page.getByRole('region', { name: /Waiting for approval: before deploy/ });
    await gate.waitFor({ timeout: 60_000 });
    expect(await stepState(page, 'deployer')).toBe('waiting');
    await screenshot(page, 'build-at-gate');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByLabel('Feedback (optional)').fill('ship it from the dashboard');
    await page.getByRole('button', { name: 'Approve' }).click();

    await waitForStepState(page, 'complete', 'completed');
    expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
    expect(navigations).toBe(navigationsOnBuildPage);

    const view = await waitForStatus(server.baseUrl, buildId, ['completed']);
    expect(view.droplet_name).toBe('stock-dashboard');
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body;
    expect(events.find((event) => event.type === 'build.approved')?.data).toMatchObject({ gate: 'before_deploy', feedback: 'ship it from the dashboard' });

    // (b) The deployed URL and its live health, and the acceptance scenarios with their results.
    const url = page.locator('[data-role="deployment-url"]');
    await url.waitFor();
    expect(await url.textContent()).toBe(view.deployment_url);
    await page.locator('[data-role="health"] .badge[data-status="healthy"]').waitFor({ timeout: 30_000 });
    const scenarios = view.steps.find((step) => step.step === 'spec_generation')!.details.scenarios as { name: string }[];
    expect(scenarios.length).toBeGreaterThan(0);
    await page.locator('.scenario[data-result="passed"]').first().waitFor();
    expect(await page.locator('.scenario[data-result="passed"]').count()).toBe(scenarios.length);
    expect(await page.locator('.scenario[data-result="failed"]').count()).toBe(0);
    for (const scenario of scenarios) await page.locator(`.scenario[data-scenario="${scenario.name}"]`).waitFor({ state: 'attached' });
    expect(await page.locator('#section-verifier').textContent()).toContain('passed');
    expect(await page.locator('#section-spec').textContent()).toContain('Stock Dashboard: SPEC');

    // The generated files: the list, and one file read.
    await page.locator('#section-files button[data-path="docs/SPEC.md"]').click();
    await page.locator('#section-files pre.file').waitFor();
    expect(await page.locator('#section-files pre.file').textContent()).toContain('## Purpose');
    // The offline author's droplet passes as first written: nothing to repair (a repair is shown below).
    await page.locator('#section-repairs').getByText('No repairs').waitFor();
    await screenshot(page, 'build-completed');
    expect(await accessibilityViolations(page)).toEqual([]);

    // The list shows it completed; the droplets page shows it healthy with its release.
    await page.getByRole('link', { name: 'Builds', exact: true }).click();
    await page.locator(`tr[data-build-id="${buildId}"] .badge[data-status="completed"]`).waitFor();
    await screenshot(page, 'builds-list');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Droplets' }).click();
    await page.locator('[data-droplet="stock-dashboard"] .badge[data-status="healthy"]').waitFor({ timeout: 30_000 });
    const rollback = page.getByRole('button', { name: 'Roll back to the previous release' });
    expect(await rollback.isDisabled()).toBe(true);

    // A second release of the same droplet: the page lists both and rolls back to the first.
    const second = await submitBuild(server.baseUrl, { architect_intent: 'Build Inventory Tracker for warehouse stock levels', droplet_name: 'stock-dashboard', approval_mode: 'auto' });
    await waitForStatus(server.baseUrl, second, ['completed']);
    const release = (id: string, live: boolean) => page.locator(`[data-droplet="stock-dashboard"] tr[data-release="${id}"][data-live="${live}"]`);
    await release(second, true).waitFor({ timeout: 30_000 });
    await release(buildId, false).waitFor();
    await screenshot(page, 'droplets');
    expect(await accessibilityViolations(page)).toEqual([]);
    page.once('dialog', (confirm) => void confirm.accept());
    await rollback.click();
    await page.getByText(`stock-dashboard rolled back to ${buildId}.`).waitFor({ timeout: 60_000 });
    const droplet = await api<{ deployment: { release: string } }>(server.baseUrl, '/executor/droplets/stock-dashboard');
    expect(droplet.body.deployment.release).toBe(buildId);
    await release(buildId, true).waitFor({ timeout: 30_000 });
    await release(second, false).waitFor();
    // The accessibility check finds what it should: an input with no label is reported.
    await page.evaluate(() => document.querySelector('main')?.append(Object.assign(document.createElement('input'), { type: 'text' })));
    expect((await accessibilityViolations(page)).map((violation) => violation.rule)).toContain('label');
    expect(browser.errors).toEqual([]);
    await page.close();
  }, BUILD_TIMEOUT * 2);
});

describe('dashboard: a build that needed a repair', () => {
  let server: TestExecutor;
  beforeAll(async () => {
    server = await startExecutor({ DEPLOY_TARGET: 'none' }, { author: new RouteDroppingAuthor() });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("shows the failed attempt in the verifier's report and the repair's diff, which puts the dropped route back", async () => {
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build a bookmark service that stores links with tags', approval_mode: 'auto' });
    const view = await waitForStatus(server.baseUrl, buildId, ['completed', 'failed'], BUILD_TIMEOUT);
    expect(view.status, JSON.stringify(view.error)).toBe('completed');

    const page = await browser.newPage();
    await page.goto(`${server.baseUrl}/#/builds/${encodeURIComponent(buildId)}`);
    await waitForStepState(page, 'complete', 'completed', 30_000);
    const repairs = page.locator('#section-repairs details.repair');
    await repairs.first().waitFor();
    expect(await repairs.count()).toBe(1);
    expect(await repairs.first().getAttribute('data-attempt')).toBe('1');
    await repairs.first().locator('summary').click();
    const diff = repairs.first().locator('pre.diff');
    await diff.waitFor();
    expect(await diff.locator('.line.file').first().textContent()).toContain('src/crud.js');
    const added = await diff.locator('.line.add').allTextContents();
    expect(added.some((line) => line.includes("app.put(base + '/:id'"))).toBe(true);
    expect(await diff.locator('.line.del').count()).toBe(0);
    // The verifier's report: the first attempt failed on the acceptance scenario, the second passed.
    const attempts = page.locator('#section-verifier table.attempts tbody tr');
    expect(await attempts.count()).toBe(2);
    expect(await attempts.nth(0).locator('.badge').getAttribute('data-status')).toBe('failed');
    expect(await attempts.nth(0).textContent()).toMatch(/accept/i);
    expect(await attempts.nth(1).locator('.badge').getAttribute('data-status')).toBe('passed');
    await screenshot(page, 'build-repaired');
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(browser.errors).toEqual([]);
    await page.close();
  }, BUILD_TIMEOUT + 60_000);
});

describe('dashboard behind API_TOKEN', () => {
  const TOKEN = 'dashboard-test-token-0123456789';
  let server: TestExecutor;
  beforeAll(async () => {
    server = await startExecutor({ API_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the page and its assets without the token, and not outside the dashboard folder', async () => {
    const index = await fetch(`${server.baseUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = await fetch(`${server.baseUrl}/dashboard/js/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    const outside = await fetch(`${server.baseUrl}/dashboard/..%2fpackage.json`);
    expect(outside.status).toBe(404);
    expect((await api(server.baseUrl, '/executor/builds')).status).toBe(401);
    const docs = await api<{ paths: Record<string, unknown> }>(server.baseUrl, '/docs/json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths).filter((path) => path === '/' || path.startsWith('/dashboard'))).toEqual([]);
  });

  it('finds the dashboard folder from the source and from the build output', () => {
    const root = packageRoot();
    expect(existsSync(join(root, 'dashboard', 'index.html'))).toBe(true);
    expect(packageRoot(join(root, 'dist', 'http', 'dashboard.js'))).toBe(root);
  });

  it('asks for the token once, keeps it for the session, and then shows and follows builds', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    // checkpoints stops after the SPEC: no npm, a quick build to look at.
    const buildId = await submitBuild(server.baseUrl, { architect_intent: 'Build Recipe Library for family cooking notes', approval_mode: 'checkpoints', auto_deploy: false }, auth);
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval'], 60_000, auth);

    const page = await browser.newPage();
    await page.goto(`${server.baseUrl}/`);
    const dialog = page.getByRole('dialog', { name: 'API token needed' });
    await dialog.waitFor();
    await screenshot(page, 'token-prompt');
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByLabel('API token', { exact: true }).fill('not-the-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('That token was refused').waitFor();
    await page.getByLabel('API token', { exact: true }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator(`tr[data-build-id="${buildId}"] .badge[data-status="waiting_approval"]`).waitFor();
    expect(await dialog.isVisible()).toBe(false);

    // The build page: its status, events over the WebSocket (?token=), and the SPEC, with no second prompt.
    await page.locator(`tr[data-build-id="${buildId}"] a`).click();
    await page.getByText('Following live.').waitFor();
    expect(await stepState(page, 'spec_generation')).toBe('completed');
    expect(await stepState(page, 'coordinator_package')).toBe('waiting');
    expect(await page.locator('#section-spec').textContent()).toContain('Recipe Library');
    expect(await page.locator('.scenario[data-result="not_run"]').count()).toBeGreaterThan(0);

    // Cancel from the page: the waiting step shows cancelled, the later ones stay pending.
    page.once('dialog', (confirm) => void confirm.accept());
    await page.getByRole('button', { name: 'Cancel build' }).click();
    await waitForStepState(page, 'coordinator_package', 'cancelled', 30_000);
    expect(await stepState(page, 'apprentice_build')).toBe('pending');
    await page.getByRole('button', { name: 'Retry' }).waitFor();
    await screenshot(page, 'build-cancelled');
    expect(await accessibilityViolations(page)).toEqual([]);
    const view = (await api<BuildView>(server.baseUrl, `/executor/builds/${buildId}/status`, { headers: auth })).body;
    expect(view.status).toBe('cancelled');

    // Kept for the session: a reload asks no more.
    await page.reload();
    await page.locator('#build-title').getByText(view.droplet_name).waitFor();
    expect(await dialog.isVisible()).toBe(false);
    expect(browser.errors).toEqual([]);
    await page.close();
  }, 120_000);
});
