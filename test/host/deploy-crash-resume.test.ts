/**
 * kill -9 of the executor in the middle of a deploy, then a restart on the same data
 * dir: during the upload, during the install, during the switch and just after it. The
 * executor runs as a real child process (`src/main.ts`); a client hammers the droplet's
 * public URL the whole time and sees no failed request, neither while the executor is
 * dead nor after. The restarted executor resumes the build, which completes; the new
 * release serves, exactly one release is live, and nothing half-uploaded is left.
 * Run against `local` and against a real OpenSSH host on loopback.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../src/domain/events.js';
import { freePort } from '../../src/sandbox/ports.js';
import { currentLink, dropletView, liveReleases, supervisorView, uploadLeftovers } from '../support/droplet-api.js';
import { api, submitBuild, tempDataDir, waitForStatus } from '../support/executor.js';
import { type ExecutorProcess, followProgress, spawnExecutor } from '../support/executor-process.js';
import { hammer } from '../support/fleet-suite.js';
import { homeOf, sshDeployVars } from '../support/deploy-target.js';
import { startSshd, type TestSshd } from '../support/sshd.js';
import { killSupervisors } from '../support/supervisors.js';

const INTENT = 'Build Inventory Tracker for warehouse stock levels';

interface Stage {
  what: string;
  /** The deployer's progress message at which the executor is killed. */
  killAt: string;
  /** Whether the release is complete on the host when the executor dies there. */
  releaseComplete: boolean;
}

// The messages of src/deploy/fleet/release-upload.ts and fleet-target.ts.
const STAGES: readonly Stage[] = [
  { what: 'during the upload', killAt: 'Uploading release', releaseComplete: false },
  { what: 'during the install', killAt: 'Installing dependencies', releaseComplete: false },
  { what: 'during the switch (the new release health-gated beside the old one)', killAt: 'Supervisor running', releaseComplete: true },
  { what: 'just after the switch, before the deploy step ends', killAt: 'Traffic switched to the new release', releaseComplete: true },
];

interface CrashHost {
  env: Record<string, string>;
  baseDir: string;
  /** Makes the next install really install (SSH: the host's installed tree for the lockfile is removed). */
  forgetInstalledDependencies(): void;
  close(): Promise<void>;
}

/** The deployer's progress messages journaled before the build was resumed (the killed attempt's). */
function progressBeforeResume(events: BuildEvent[]): string[] {
  const resumed = events.findIndex((event) => event.type === 'build.resumed');
  return events
    .slice(0, resumed)
    .filter((event) => event.type === 'step.progress' && event.data.step === 'deployer')
    .map((event) => String((event.data as { message: string }).message));
}

function crashResumeSuite(label: string, setup: (dataDir: string) => Promise<CrashHost>): void {
  describe(`${label}: kill -9 of the executor mid-deploy, then a restart`, () => {
    const name = `crash-resume-${label}`;
    const dataDir = tempDataDir();
    let host: CrashHost;
    let port = 0;
    let executor: ExecutorProcess;
    let url = '';
    let load: ReturnType<typeof hammer> | null = null;
    const dropletDir = () => join(host.baseDir, name);
    const start = async () => (executor = await spawnExecutor({ dataDir, port, env: host.env }));

    beforeAll(async () => {
      host = await setup(dataDir);
      port = await freePort();
      await start();
    }, 120_000);

    afterAll(async () => {
      await load?.stop();
      await executor?.kill9();
      killSupervisors(host.baseDir);
      await host.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('deploys a first release that then serves under constant load', async () => {
      const buildId = await submitBuild(executor.baseUrl, { architect_intent: INTENT, droplet_name: name, approval_mode: 'auto' });
      const done = await waitForStatus(executor.baseUrl, buildId, ['completed']);
      url = done.deployment_url!;
      expect((await api<{ status: string }>(url, '/health')).body.status).toBe('healthy');
      load = hammer(`${url}/health`);
    }, 180_000);

    for (const stage of STAGES) {
      it(`kill -9 ${stage.what}: the droplet keeps serving, and the restarted executor finishes the deploy cleanly`, async () => {
        const before = (await dropletView(executor.baseUrl, name)).deployment!.release;
        if (stage.killAt === 'Installing dependencies') host.forgetInstalledDependencies();
        const buildId = await submitBuild(executor.baseUrl, { architect_intent: INTENT, droplet_name: name, approval_mode: 'auto' });
        const killed = executor;
        let sent = false;
        await followProgress(killed.wsUrl, buildId, (message, step) => {
          if (step !== 'deployer' || message !== stage.killAt || sent) return;
          sent = killed.child.kill('SIGKILL');
        }).catch(() => null); // a killed server resets the socket
        expect(sent, `the build ended without "${stage.killAt}"`).toBe(true);
        await killed.exited();
        expect(killed.child.signalCode).toBe('SIGKILL');

        // Dead executor: the host holds what the killed deploy got to, and the old release still serves.
        expect(existsSync(join(dropletDir(), 'releases', buildId))).toBe(stage.releaseComplete);
        if (!stage.releaseComplete) expect(currentLink(dropletDir())).toBe(`releases/${before}`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect((await api<{ status: string }>(url, '/health')).status).toBe(200);

        await start();
        const done = await waitForStatus(executor.baseUrl, buildId, ['completed']);
        const events = (await api<BuildEvent[]>(executor.baseUrl, `/executor/builds/${buildId}/events`)).body;
        expect(events.map((event) => event.type)).toContain('build.resumed');
        // The killed attempt got exactly as far as the stage: nothing after it was journaled.
        expect(progressBeforeResume(events).at(-1)).toBe(stage.killAt);
        expect(done.deployment_url).toBe(url);

        const view = await dropletView(executor.baseUrl, name);
        expect(view.deployment).toMatchObject({ release: buildId, status: 'active', url });
        expect(liveReleases(view)).toEqual([buildId]);
        expect(view.health.status).toBe('healthy');
        expect(currentLink(dropletDir())).toBe(`releases/${buildId}`);
        expect(uploadLeftovers(dropletDir())).toEqual([]);
        expect(await supervisorView(dropletDir())).toEqual({ active: buildId, candidate: null, backends: 1 });
      }, 300_000);
    }

    it('lost no request while the executor was dead, across the restarts, or after', async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const tally = await load!.stop();
      load = null;
      expect(tally.errors).toEqual([]);
      expect(tally.failed).toBe(0);
      expect(tally.sent).toBeGreaterThan(0);
      console.log(`[${label}] ${STAGES.length} kills mid-deploy under load: ${tally.sent} requests, ${tally.failed} failed`);
    });
  });
}

crashResumeSuite('local', async (dataDir) => ({
  env: {},
  baseDir: join(dataDir, 'deployments'),
  // Local releases link the executor's dependency store: the install is that link.
  forgetInstalledDependencies: () => {},
  close: async () => {},
}));

crashResumeSuite('ssh', async () => {
  const sshd: TestSshd = await startSshd({ user: 'executor-crash' });
  const baseDir = join(homeOf(sshd.user), 'droplets');
  rmSync(baseDir, { recursive: true, force: true });
  const modules = join(baseDir, '.executor', 'modules');
  return {
    env: { ...sshDeployVars(sshd), DEPLOY_BASE_DIR: baseDir },
    baseDir,
    // The first deploy installed the lockfile's tree on the host; without it the next one runs npm ci there.
    // The live release keeps running (its modules are loaded) and links the same path again once it is back.
    forgetInstalledDependencies: () => {
      for (const entry of existsSync(modules) ? readdirSync(modules) : []) rmSync(join(modules, entry), { recursive: true, force: true });
    },
    close: async () => {
      await sshd.stop();
      rmSync(baseDir, { recursive: true, force: true });
    },
  };
});
