/**
 * The executor's stop and start around its deployed droplets, through real executors on
 * one data dir: stopping it leaves the droplet serving under its supervisor (and its log
 * says so); after a simulated reboot (every supervisor and backend killed) the next
 * executor's start reconciles the record, so the droplet answers again before builds
 * resume, journaled as `droplet.reconciled` / `started`. A supervisor found serving
 * another release than the one recorded is reported `unexpected_release`, not switched.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRunnerUser } from '../../src/deploy/runner-user.js';
import type { BuildEvent } from '../../src/domain/events.js';
import { currentLink, type DropletEventJson, dropletView, supervisorView } from '../support/droplet-api.js';
import { api, startExecutor, submitBuild, tempDataDir, type TestExecutor, waitForStatus, waitForStep } from '../support/executor.js';
import { isAlive } from '../support/processes.js';
import { killSupervisors } from '../support/supervisors.js';

const INTENT = 'Build Inventory Tracker for warehouse stock levels';
const NAME = 'reconcile-me';
const dataDir = tempDataDir();
const deployments = join(dataDir, 'deployments');
const dropletDir = join(deployments, NAME);

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose lines a test can read back. */
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

let server: TestExecutor | null = null;
let log = capturingLogger();
const releases: string[] = [];
let url = '';

async function start(): Promise<TestExecutor> {
  log = capturingLogger();
  server = await startExecutor({ START_TIMEOUT_SECONDS: '20' }, { dataDir, logger: log.logger });
  return server;
}

async function stop(): Promise<void> {
  await server?.close({ keepData: true });
  server = null;
}

afterAll(async () => {
  if (!server) await start().catch(() => null);
  await server?.close();
});

async function answers(): Promise<boolean> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(3_000) })).status === 200;
  } catch {
    return false;
  }
}

const reconciled = async (): Promise<DropletEventJson[]> =>
  ((await dropletView(server!.baseUrl, NAME)).events ?? []).filter((event) => event.type === 'droplet.reconciled');

/** The supervisor started by hand, as its runner user, outside any executor (it serves what `current` names). */
async function startSupervisorByHand(): Promise<void> {
  const program = readdirSync(join(deployments, '.executor')).find((entry) => /^supervisor-.*\.mjs$/.test(entry));
  if (!program) throw new Error(`no supervisor program under ${deployments}/.executor`);
  const runner = await ensureRunnerUser();
  execFileSync(process.execPath, [join(deployments, '.executor', program), 'start', dropletDir], {
    uid: runner.uid,
    gid: runner.gid,
    cwd: '/',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/' },
    stdio: 'ignore',
    timeout: 30_000,
  });
}

describe('executor stop and start around deployed droplets', () => {
  let interrupted: string;

  it('stopping the executor leaves the droplet serving under its supervisor, and its log says so', async () => {
    const executor = await start();
    for (let i = 0; i < 2; i++) {
      const buildId = await submitBuild(executor.baseUrl, { architect_intent: INTENT, droplet_name: NAME, approval_mode: 'auto' });
      releases.push((await waitForStatus(executor.baseUrl, buildId, ['completed'])).build_id);
    }
    url = (await dropletView(executor.baseUrl, NAME)).deployment!.url;
    // A build of another droplet is running when the executor stops: it resumes at the next start.
    interrupted = await submitBuild(executor.baseUrl, { architect_intent: 'Build Recipe Library for family cooking notes', auto_deploy: false, approval_mode: 'auto' });
    await waitForStep(executor.baseUrl, interrupted, 'verifier');
    const supervisorPid = (await dropletView(executor.baseUrl, NAME)).deployment!.pid!;
    const closing = log.lines;

    await stop();
    expect(closing).toContainEqual(expect.objectContaining({ msg: 'executor stopped; deployed droplets keep running under their supervisors', droplets: 1 }));
    expect(isAlive(supervisorPid)).toBe(true);
    expect(await answers()).toBe(true);
    expect((await supervisorView(dropletDir)).active).toBe(releases[1]);
  }, 300_000);

  it('after a simulated reboot the next start brings the droplet back before it resumes builds', async () => {
    expect(killSupervisors(deployments)).toBeGreaterThan(0);
    for (let i = 0; i < 50 && (await answers()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await answers()).toBe(false);

    const executor = await start();
    // start() returns once resume() did: reconciliation first, then the builds were queued again.
    expect(await answers()).toBe(true);
    const messages = log.lines.map((line) => line.msg);
    const reconciledAt = messages.indexOf('deployment reconciled');
    expect(reconciledAt).toBeGreaterThanOrEqual(0);
    expect(log.lines[reconciledAt]).toMatchObject({ droplet: NAME, action: 'started', expected: releases[1] });
    expect(messages.indexOf('resuming unfinished builds')).toBeGreaterThan(reconciledAt);

    const events = await reconciled();
    expect(events[0]?.data).toMatchObject({ action: 'started', expected: releases[1], name: NAME });
    expect((await supervisorView(dropletDir)).active).toBe(releases[1]);
    expect((await dropletView(executor.baseUrl, NAME)).health.status).toBe('healthy');

    const resumed = await waitForStatus(executor.baseUrl, interrupted, ['completed']);
    const buildEvents = (await api<BuildEvent[]>(executor.baseUrl, `/executor/builds/${resumed.build_id}/events`)).body;
    const resumedEvent = buildEvents.find((event) => event.type === 'build.resumed');
    expect(resumedEvent).toBeDefined();
    expect(events[0]!.at <= resumedEvent!.at).toBe(true);
  }, 300_000);

  it('reports a droplet whose supervisor serves another release than the recorded one as unexpected_release', async () => {
    await stop();
    killSupervisors(deployments);
    // Someone pointed `current` at the older release and started the supervisor by hand.
    symlinkSync(`releases/${releases[0]}`, join(dropletDir, 'current.by-hand'));
    renameSync(join(dropletDir, 'current.by-hand'), join(dropletDir, 'current'));
    await startSupervisorByHand();
    expect((await supervisorView(dropletDir)).active).toBe(releases[0]);

    const executor = await start();
    const events = await reconciled();
    expect(events[0]?.data).toMatchObject({ action: 'unexpected_release', expected: releases[1], found: releases[0] });
    expect(log.lines).toContainEqual(expect.objectContaining({ msg: 'deployment reconciled', action: 'unexpected_release', found: releases[0] }));
    // Reported, not acted on: the release found keeps serving and the record is unchanged.
    expect((await supervisorView(dropletDir)).active).toBe(releases[0]);
    expect(currentLink(dropletDir)).toBe(`releases/${releases[0]}`);
    expect((await dropletView(executor.baseUrl, NAME)).deployment?.release).toBe(releases[1]);
    expect(await answers()).toBe(true);
  }, 120_000);
});
