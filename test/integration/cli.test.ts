/**
 * The `executor` CLI, run for real (a compiled bin with its shebang, and from source)
 * against a real executor on loopback that requires an API token: a watched build in a
 * pseudo-terminal answered at its gate (and at both gates of checkpoints mode), `--json` answers parsed, one-line API errors,
 * and a rejection that ends the watch non-zero with its reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import type { BuildSummary, BuildView } from '../../src/domain/status.js';
import { cliEnv, compileCliBin, plainText, runCli, runInPty } from '../support/cli.js';
import { api, startExecutor, type TestExecutor, waitForStatus } from '../support/executor.js';

const TOKEN = 'cli-test-token-0123456789abcdef';
let server: TestExecutor;
let compiled: { bin: string; remove(): void };
let env: Record<string, string>;
let watchedBuildId = '';

beforeAll(async () => {
  [server, compiled] = await Promise.all([startExecutor({ API_TOKEN: TOKEN }), compileCliBin()]);
  env = cliEnv(server.baseUrl, TOKEN);
}, 120_000);
afterAll(async () => {
  compiled?.remove();
  await server?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('executor CLI', () => {
  it('watches a build in a terminal, asks at the gate, and exits 0 once all eight steps are done', async () => {
    const run = runInPty([compiled.bin, 'build', 'Build Inventory Tracker for warehouse stock levels', '--mode', 'final'], env);
    await run.waitFor('Approve this build? [a]pprove / [r]eject:');
    const atGate = plainText(run.output());
    expect(atGate).toContain('waiting for approval at before_deploy (before step 6)');
    expect(atGate).toMatch(/acceptance passed: /);
    run.type('a\n');
    expect(await run.exited()).toBe(0);

    const shown = plainText(run.output());
    watchedBuildId = /build (build-[a-z0-9-]+) accepted/.exec(shown)?.[1] ?? '';
    const report = shown.slice(shown.lastIndexOf('approved; continuing'));
    const names = ['Intent', 'SPEC generation', 'Coordinator package', 'Apprentice build', 'Verifier', 'Deployer', 'Registry update', 'Complete'];
    const duration = String.raw`\((\d+\.\ds|\d+m \d\ds)\)`;
    names.forEach((name, index) => expect(report).toMatch(new RegExp(`✔ completed +${index + 1}\\. ${name} ${duration}`)));
    expect(report).toMatch(new RegExp(`5\\. Verifier ${duration} - attempt \\d+, \\d+ repairs?, acceptance \\d+/\\d+ passed`));
    expect(report).toContain(`build ${watchedBuildId}: completed, cost $0.0000`);
    expect(report).toMatch(/deployed at http:\/\/127\.0\.0\.1:\d+/);
    const view = await waitForStatus(server.baseUrl, watchedBuildId, ['completed'], 10_000, auth);
    expect(view.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
  });

  it('in checkpoints mode asks twice, after the SPEC (showing it) and before the deploy (showing the verification)', async () => {
    const prompt = 'Approve this build? [a]pprove / [r]eject:';
    const run = runInPty([compiled.bin, 'build', 'Build a contact book for people with names, emails and phone numbers', '--mode', 'checkpoints', '--no-deploy'], env);
    await run.waitFor(prompt);
    const first = plainText(run.output());
    expect(first).toContain('waiting for approval at after_spec (before step 3)');
    expect(first).toMatch(/SPEC:\n {2}\| # .+: SPEC/);
    expect(first).not.toContain('before_deploy');
    run.type('a\n');

    await run.waitFor('waiting for approval at before_deploy (before step 6)');
    await expect.poll(() => plainText(run.output()).split(prompt).length - 1, { timeout: 10_000 }).toBe(2);
    const shown = plainText(run.output());
    const second = shown.slice(shown.lastIndexOf('waiting for approval at before_deploy'));
    expect(second).toMatch(/verification: .+ \(1 attempt\)/);
    expect(second).toMatch(/acceptance passed: /);
    run.type('a\n');
    expect(await run.exited()).toBe(0);

    const buildId = /build (build-[a-z0-9-]+) accepted/.exec(plainText(run.output()))?.[1] ?? '';
    const view = await waitForStatus(server.baseUrl, buildId, ['completed'], 10_000, auth);
    expect(view.steps.find((step) => step.step === 'deployer')?.status).toBe('skipped');
    const events = (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`, { headers: auth })).body;
    expect(events.filter((event) => event.type === 'build.approved').map((event) => event.data.gate)).toEqual(['after_spec', 'before_deploy']);
  });

  it('prints the API answers as parseable JSON with --json', async () => {
    const status = await runCli(['status', watchedBuildId, '--json'], env, [compiled.bin]);
    expect(status.code).toBe(0);
    const view = JSON.parse(status.stdout) as BuildView;
    expect(view).toMatchObject({ build_id: watchedBuildId, status: 'completed' });

    const list = await runCli(['list', '--json', '--status', 'completed', '--limit', '5'], env);
    expect(list.code).toBe(0);
    const builds = JSON.parse(list.stdout) as BuildSummary[];
    expect(builds.map((build) => build.build_id)).toContain(watchedBuildId);
    expect(builds[0]).not.toHaveProperty('steps');

    const events = await runCli(['events', watchedBuildId, '--json', '--after', '2'], env);
    const journal = JSON.parse(events.stdout) as BuildEvent[];
    expect(journal[0]!.seq).toBeGreaterThan(2);
    expect(journal.map((event) => event.type)).toContain('build.approved');
    expect(journal.at(-1)?.type).toBe('build.completed');

    const droplets = await runCli(['droplets', '--json'], env);
    const answer = JSON.parse(droplets.stdout) as { droplets: { name: string; health: { status: string } }[] };
    expect(answer.droplets).toContainEqual(expect.objectContaining({ name: 'inventory-tracker', health: expect.objectContaining({ status: 'healthy' }) }));

    const logs = await runCli(['logs', 'inventory-tracker', '--lines', '5', '--json'], env);
    expect(logs.code).toBe(0);
    expect((JSON.parse(logs.stdout) as { name: string; lines: string[] }).name).toBe('inventory-tracker');
  });

  it('passes --notify and --deploy-host on to the API, which keeps the channels and judges the host', async () => {
    const submitted = await runCli(['build', 'Build Recipe Library for family cooking notes', '--mode', 'checkpoints', '--no-deploy', '--notify', 'log', '--no-watch', '--json'], env);
    expect(submitted.code).toBe(0);
    const { build_id: buildId } = JSON.parse(submitted.stdout) as { build_id: string };
    const view = await waitForStatus(server.baseUrl, buildId, ['waiting_approval'], 60_000, auth);
    expect(view.notify_channels).toEqual(['log']);
    const cancelled = await runCli(['cancel', buildId], env);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain(`${buildId}: cancelled (step 2/8 spec_generation`);
    expect(cancelled.stdout).toMatch(/^reason: CANCELLED: .+$/m);
    expect(cancelled.stderr).toBe('');

    const elsewhere = await runCli(['build', 'Build Recipe Library for family cooking notes', '--deploy-host', 'deploy@10.0.0.5:22', '--no-watch'], env);
    expect(elsewhere.code).toBe(3);
    expect(elsewhere.stderr).toMatch(/^error: INVALID_INPUT: deploy_host "deploy@10\.0\.0\.5:22" is not a host of this executor's deploy target .+\n$/);
  });

  it('prints an API error as one line and exits non-zero', async () => {
    const unknown = await runCli(['status', 'build-99-no-such-build-20260101-000000'], env);
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^error: NOT_FOUND: .+\n$/);

    const noToken = await runCli(['list'], cliEnv(server.baseUrl, undefined));
    expect(noToken.code).toBe(3);
    expect(noToken.stderr).toMatch(/^error: UNAUTHORIZED: .+\n$/);

    const wrongToken = await runCli(['watch', watchedBuildId], cliEnv(server.baseUrl, 'not-the-token'));
    expect(wrongToken.code).toBe(3);
    expect(wrongToken.stderr).toMatch(/^error: UNAUTHORIZED: .+\n$/);

    const closedPort = await runCli(['list'], cliEnv('http://127.0.0.1:9', TOKEN));
    expect(closedPort.code).toBe(4);
    expect(closedPort.stderr).toMatch(/^error: UNREACHABLE: the executor is not reachable at http:\/\/127\.0\.0\.1:9 .*npm start.*\n$/);
  });

  it('a watch without a terminal says how to decide at the gate; a rejection with feedback ends it with exit 2 and the reason', async () => {
    const submitted = await runCli(['build', 'Build Recipe Library for family cooking notes', '--mode', 'final', '--no-deploy', '--json'], env);
    expect(submitted.code).toBe(0);
    const { build_id: buildId } = JSON.parse(submitted.stdout) as { build_id: string };
    // Without a terminal, watch shows the gate, says how to decide, and keeps waiting.
    let toldHow: () => void = () => undefined;
    const told = new Promise<void>((resolve) => (toldHow = resolve));
    const watching = runCli(['watch', buildId], env, undefined, (stdout) => {
      if (stdout.includes(`executor approve ${buildId}`)) toldHow();
    });
    await Promise.race([told, watching]);
    await waitForStatus(server.baseUrl, buildId, ['waiting_approval'], 1_000, auth);

    const rejected = await runCli(['reject', buildId, '--feedback', 'not this quarter', '--json'], env);
    expect(rejected.code).toBe(0);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ build_id: buildId, status: 'cancelled', error: { code: 'REJECTED' } });

    const watched = await watching;
    expect(watched.stdout).toContain('waiting for approval at before_deploy (before step 6)');
    expect(watched.stdout).toContain(`executor reject ${buildId} --feedback`);
    expect(watched.code).toBe(2);
    expect(watched.stderr).toMatch(new RegExp(`^error: REJECTED: build ${buildId} cancelled: .+\\n$`));
    expect(watched.stdout).toContain(`build ${buildId}: cancelled`);
  });
});
