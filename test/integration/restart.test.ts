/**
 * The real service as a child process, killed with SIGKILL in the middle of a build
 * and started again on the same data dir: the build resumes and finishes, and a
 * build waiting for approval still waits and can be approved.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import { loadConfig } from '../../src/composition/config.js';
import { freePort } from '../../src/sandbox/ports.js';
import { api, submitBuild, tempDataDir, waitForStatus, waitForStep } from '../support/executor.js';
import { killSupervisors } from '../support/supervisors.js';
import { eventually, isAlive, isZombie, processesUnder } from '../support/processes.js';

const dataDir = tempDataDir();
const children: ChildProcess[] = [];

async function startService(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/executor/health`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('service did not start');
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  killSupervisors(join(loadConfig({ DATA_DIR: dataDir }).dataDir, 'deployments'));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a restart', () => {
  it('resumes an interrupted build and keeps a waiting one waiting', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const first = await startService(port);

    const waitingId = await submitBuild(baseUrl, { architect_intent: 'Build Book Club for reading lists', approval_mode: 'final', auto_deploy: false });
    await waitForStatus(baseUrl, waitingId, ['waiting_approval']);
    const runningId = await submitBuild(baseUrl, { architect_intent: 'Build Analytics Engine for tracking droplet metrics and performance', approval_mode: 'auto' });
    await waitForStep(baseUrl, runningId, 'verifier');
    expect(await eventually(() => processesUnder(`${dataDir}/repos`).length > 0, 60_000)).toBe(true);

    first.kill('SIGKILL');
    await eventually(() => first.exitCode !== null || first.signalCode !== null);
    // The verifier's children outlive a SIGKILLed executor (they run in their own groups)...
    const orphans = processesUnder(`${dataDir}/repos`);

    await startService(port);
    // ...until the next start reaps them, before it resumes anything.
    expect(orphans.filter((pid) => isAlive(pid) && !isZombie(pid))).toEqual([]);
    const done = await waitForStatus(baseUrl, runningId, ['completed']);
    expect(done.steps.every((step) => step.status === 'completed')).toBe(true);
    const events = (await api<BuildEvent[]>(baseUrl, `/executor/builds/${runningId}/events`)).body;
    expect(events.map((event) => event.type)).toContain('build.resumed');
    expect((await api<{ status: string }>(done.deployment_url!, '/health')).body.status).toBe('healthy');

    const waiting = (await api<{ status: string }>(baseUrl, `/executor/builds/${waitingId}/status`)).body;
    expect(waiting.status).toBe('waiting_approval');
    expect((await api(baseUrl, `/executor/builds/${waitingId}/approve`, { body: { approved: true } })).status).toBe(200);
    await waitForStatus(baseUrl, waitingId, ['completed']);
    expect(processesUnder(`${dataDir}/repos`)).toEqual([]);
  });
});
