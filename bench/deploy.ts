/**
 * Deploy benchmarks on the real `local` target (a supervisor per droplet, the runner user,
 * the bubblewrap service sandbox when it works here), each figure beside a baseline
 * measured in the same run:
 *  1. the switch: redeploys of one droplet while a client hammers its public URL
 *     (requests, failures, deploy time, and the switch itself: from the candidate's
 *     healthy gate to the old backend stopped, read off the supervisor's log), against the
 *     floor of a deploy here: a cold `node` start of the same droplet to its first healthy
 *     /health, bare (no sandbox, no supervisor);
 *  2. the restart after a crash: `/crash` to the first 200 of a new process on the public
 *     URL, against the same cold start;
 *  3. disk use after the rebuilds (only DEPLOY_KEEP_RELEASES remain), locally and on an
 *     SSH host (a real sshd on loopback; `--no-ssh` skips it);
 *  4. the supervisor's RSS idle and after the load, against a bare idle `node` process.
 * Usage: npm run bench:deploy [-- --rebuilds 20 --crashes 5 --no-ssh]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pino from 'pino';
import { loadConfig } from '../src/composition/config.js';
import { createDeployTarget } from '../src/composition/deploy.js';
import { createDependencyStore } from '../src/composition/providers.js';
import { prepareSandbox } from '../src/composition/sandbox.js';
import type { DeployTarget } from '../src/domain/ports/deploy.js';
import { hardenDataDir } from '../src/sandbox/data-dir-modes.js';
import { freePort } from '../src/sandbox/ports.js';
import { openDatabase } from '../src/store/db.js';
import { FleetDroplet } from '../test/support/fleet-droplet.js';
import { hammer } from '../test/support/fleet-suite.js';
import { startSshd } from '../test/support/sshd.js';
import { killSupervisors } from '../test/support/supervisors.js';
import { argument, median } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (value: number) => `${value.toFixed(0)} ms`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const duBytes = (path: string) => Number(execFileSync('du', ['-sb', path], { encoding: 'utf8' }).split('\t')[0]);
const releasesIn = (dropletDir: string) => readdirSync(join(dropletDir, 'releases')).filter((name) => !name.startsWith('.'));

/** VmRSS of a process, in bytes. */
const rssBytes = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** A bare `node` doing nothing, after it settled: the least a supervisor written in Node can weigh. */
async function bareNodeRss(): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
  try {
    await sleep(1_000);
    return rssBytes(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

/** A copy of the droplet's commit to start bare, as the floor's runs do. */
function floorCopy(droplet: FleetDroplet, commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-floor-'));
  execFileSync('sh', ['-c', `git -C "${droplet.dir}" archive ${commit} | tar -x -C "${dir}"`]);
  return dir;
}

/** The floor of a deploy or a restart here: the droplet's node process, cold, to its first healthy /health (polled every 5 ms). */
async function coldStartMs(dir: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, ['src/server.js'], { cwd: dir, env: { PATH: process.env.PATH, SERVICE_PORT: String(port), HOST: '127.0.0.1' }, stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the droplet exited with ${child.exitCode}`);
      const answer = await fetch(`http://127.0.0.1:${port}/health`).then((response) => response.json() as Promise<{ status?: string }>, () => null);
      if (answer?.status === 'healthy') return performance.now() - started;
      await sleep(5);
    }
  } finally {
    child.kill('SIGKILL');
  }
}

/** One control request as the executor sends it on a host: a `node <supervisor> ctl` process (the switch needs one per step). */
function controlRequestMs(deployments: string, dropletDir: string): number {
  const program = readdirSync(join(deployments, '.executor')).find((name) => name.startsWith('supervisor-'))!;
  const started = performance.now();
  execFileSync(process.execPath, [join(deployments, '.executor', program), 'ctl', dropletDir, '{"cmd":"status"}'], { stdio: 'ignore' });
  return performance.now() - started;
}

/** From the supervisor's log: the candidate's gate passing → the old backend's exit (the switch proper: link, promote, drain, stop). */
function switchFromLog(logFile: string, candidate: string, old: string): number {
  const lines = readFileSync(logFile, 'utf8').split('\n');
  const at = (line: string) => Date.parse(line.slice(0, line.indexOf(' ')));
  const healthy = lines.map((line) => line.includes(` candidate ${candidate} is healthy`)).lastIndexOf(true);
  const stopped = lines.findIndex((line, index) => index > healthy && line.includes(` release ${old} (pid `));
  if (healthy < 0 || stopped < 0) throw new Error(`the supervisor log does not show ${candidate} gated and ${old} stopped`);
  return at(lines[stopped]!) - at(lines[healthy]!);
}

interface Redeploy {
  deployMs: number;
  /** deploy() → 'Supervisor running': the lock, the git-archive upload, dependencies, supervisor.json, the supervisor's status. */
  uploadMs: number;
  /** 'Supervisor running' → 'Traffic switched…': the candidate's start and gate, then the switch. */
  gateAndSwitchMs: number;
  switchMs: number;
  /** 'Traffic switched…' → deploy() returns: the record, pruning, the lock released. */
  recordMs: number;
  sent: number;
  failed: number;
  errors: string[];
  versionsSeen: number;
}

async function redeployUnderLoad(target: DeployTarget, droplet: FleetDroplet, url: string, supervisorLog: string, old: string): Promise<{ release: string; figures: Redeploy }> {
  const release = droplet.releaseId();
  const marks = new Map<string, number>();
  const request = droplet.request(release, droplet.commit(release), { onProgress: (message) => marks.set(message, performance.now()) });
  const load = hammer(url);
  const started = performance.now();
  await target.deploy(request);
  const ended = performance.now();
  const tally = await load.stop();
  const [running, switched] = [marks.get('Supervisor running')!, marks.get('Traffic switched to the new release')!];
  const phases = { deployMs: ended - started, uploadMs: running - started, gateAndSwitchMs: switched - running, switchMs: switchFromLog(supervisorLog, release, old), recordMs: ended - switched };
  return { release, figures: { ...phases, sent: tally.sent, failed: tally.failed, errors: tally.errors, versionsSeen: tally.versions.size } };
}

/** `/crash`, then requests until one is answered 200 by a new process (the proxy holds requests while none is ready). */
async function crashToServingMs(url: string): Promise<number> {
  const instanceOf = async () => ((await (await fetch(url, { signal: AbortSignal.timeout(15_000) })).json()) as { instance?: string }).instance;
  const before = await instanceOf();
  const started = performance.now();
  await fetch(`${url}/crash`).catch(() => undefined);
  for (;;) {
    const now = await instanceOf().catch(() => undefined);
    if (now && now !== before) return performance.now() - started;
    await sleep(5);
  }
}

async function localFixture() {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-deploy-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', START_TIMEOUT_SECONDS: '10' });
  const db = openDatabase(join(dataDir, 'executor.db'));
  await hardenDataDir(dataDir);
  const log = pino({ level: 'silent' });
  const { choice } = prepareSandbox(config, log);
  const target = (await createDeployTarget(config, { db, dependencies: createDependencyStore(config), sandbox: choice, redact: (text) => text, log }))!;
  const deployments = join(dataDir, 'deployments');
  return {
    target,
    deployments,
    sandboxed: choice.kind === 'bubblewrap',
    async close() {
      killSupervisors(deployments);
      await target.close();
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A short burst through the proxy (10 connections) on top of the redeploys' hammering, before RSS is read again. */
async function burst(url: string): Promise<number> {
  const result = await autocannon({ url, connections: 10, duration: 3 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`load burst: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.total;
}

async function localFigures(rebuilds: number, crashes: number) {
  const fixture = await localFixture();
  const droplet = new FleetDroplet({ dropletId: 71, name: 'bench-deploy' });
  const dropletDir = join(fixture.deployments, droplet.identity.name);
  const supervisorLog = join(dropletDir, 'logs', 'supervisor.log');
  let floorDir = '';
  try {
    const firstCommit = droplet.commit('first');
    floorDir = floorCopy(droplet, firstCommit);
    // The floor is sampled all through the run (machine load changes), never while the hammer runs.
    const floorMs = [await coldStartMs(floorDir), await coldStartMs(floorDir)];
    let live = droplet.releaseId();
    const { url } = await fixture.target.deploy(droplet.request(live, firstCommit));
    const supervisorPid = Number(readFileSync(join(dropletDir, 'run', 'supervisor.pid'), 'utf8').trim());
    await sleep(1_000);
    const supervisorIdle = rssBytes(supervisorPid);
    const redeploys: Redeploy[] = [];
    const restartsMs: number[] = [];
    const crashEvery = Math.max(1, Math.floor(rebuilds / crashes));
    for (let build = 1; build <= rebuilds; build += 1) {
      const { release, figures } = await redeployUnderLoad(fixture.target, droplet, url, supervisorLog, live);
      if (figures.failed > 0) throw new Error(`redeploy ${build}: ${figures.failed} of ${figures.sent} requests failed: ${figures.errors.join('; ')}`);
      redeploys.push(figures);
      floorMs.push(await coldStartMs(floorDir));
      live = release;
      // A crash right after a promote: the back-off starts from its initial delay, as for a droplet that ran a while.
      if (build % crashEvery === 0 && restartsMs.length < crashes) restartsMs.push(await crashToServingMs(url));
    }
    const controlMs = [0, 1, 2, 3, 4].map(() => controlRequestMs(fixture.deployments, dropletDir));
    const burstRequests = await burst(url);
    const supervisorAfterLoad = rssBytes(supervisorPid);
    // A second burst: RSS that keeps climbing would be a leak, one that stays is the heap's high-water mark.
    const burstAgain = await burst(url);
    const supervisorAfterMore = rssBytes(supervisorPid);
    const disk = {
      dropletDir: duBytes(dropletDir),
      deployments: duBytes(fixture.deployments),
      oneRelease: duBytes(join(dropletDir, 'releases', live)),
      releasesKept: releasesIn(dropletDir).length,
      builds: rebuilds + 1,
    };
    return { sandboxed: fixture.sandboxed, floorMs, controlMs, redeploys, restartsMs, rss: { supervisorIdle, supervisorAfterLoad, supervisorAfterMore, bareNode: await bareNodeRss(), burstRequests, burstAgain }, disk };
  } finally {
    await fixture.close();
    for (const dir of [droplet.dir, floorDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The same rebuilds on an SSH host: a real sshd on loopback, a user made for the bench, droplets under its home. */
async function sshDisk(rebuilds: number) {
  const sshd = await startSshd({ user: 'executor-bench' });
  const home = execFileSync('sh', ['-c', 'getent passwd executor-bench | cut -d: -f6'], { encoding: 'utf8' }).trim();
  const baseDir = join(home, 'droplets');
  rmSync(baseDir, { recursive: true, force: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-deploy-ssh-'));
  const config = loadConfig({
    DATA_DIR: dataDir, LOG_LEVEL: 'silent', DEPLOY_TARGET: 'ssh', SSH_HOST: sshd.host, SSH_PORT: String(sshd.port), SSH_USER: sshd.user,
    SSH_KEY_PATH: sshd.keyPath, SSH_HOST_FINGERPRINT: sshd.hostKeyFingerprint, DEPLOY_BIND_HOST: '127.0.0.1', DEPLOY_NODE_PATH: process.execPath, START_TIMEOUT_SECONDS: '10',
  });
  const db = openDatabase(join(dataDir, 'executor.db'));
  const log = pino({ level: 'silent' });
  const target = (await createDeployTarget(config, { db, dependencies: createDependencyStore(config), sandbox: prepareSandbox(config, log).choice, redact: (text) => text, log }))!;
  const droplet = new FleetDroplet({ dropletId: 72, name: 'bench-deploy-ssh' });
  try {
    const deployMs: number[] = [];
    for (let build = 0; build <= rebuilds; build += 1) {
      const release = droplet.releaseId();
      const request = droplet.request(release, droplet.commit(release));
      const started = performance.now();
      await target.deploy(request);
      if (build > 0) deployMs.push(performance.now() - started);
    }
    const dropletDir = join(baseDir, droplet.identity.name);
    return { baseDir: duBytes(baseDir), dropletDir: duBytes(dropletDir), releasesKept: releasesIn(dropletDir).length, builds: rebuilds + 1, deployMs };
  } finally {
    killSupervisors(baseDir);
    await target.close();
    db.close();
    await sshd.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(baseDir, { recursive: true, force: true });
    rmSync(droplet.dir, { recursive: true, force: true });
  }
}

function printTable(rows: [string, string, string][]): void {
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(`  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`);
}

function report(local: Awaited<ReturnType<typeof localFigures>>, ssh: Awaited<ReturnType<typeof sshDisk>> | null, keep: number): void {
  const floor = median(local.floorMs);
  const pick = (key: keyof Redeploy) => local.redeploys.map((redeploy) => Number(redeploy[key]));
  const deploy = median(pick('deployMs'));
  const restart = median(local.restartsMs);
  const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}× its floor`;
  const rows: [string, string, string][] = [
    ['measure', 'figure', 'against'],
    ['floor: cold `node` start of the droplet to healthy (bare, median)', ms(floor), `${local.floorMs.length} starts through the run, ${ms(Math.min(...local.floorMs))}-${ms(Math.max(...local.floorMs))}`],
    [`redeploy under load, deploy() call, median of ${local.redeploys.length}`, ms(deploy), ratio(deploy, floor)],
    ['  deploy() → "Supervisor running" (lock, upload, dependencies, config)', ms(median(pick('uploadMs'))), ''],
    ['  "Supervisor running" → "Traffic switched" (candidate start, gate, switch)', ms(median(pick('gateAndSwitchMs'))), ratio(median(pick('gateAndSwitchMs')), floor)],
    ['    of which the switch: candidate healthy → old backend stopped (supervisor log)', ms(median(pick('switchMs'))), `max ${ms(Math.max(...pick('switchMs')))}`],
    ['      one supervisor control request (`node <supervisor> ctl`, median of 5)', ms(median(local.controlMs)), ''],
    ['  "Traffic switched" → deploy() returns (record, prune, unlock)', ms(median(pick('recordMs'))), ''],
    ['requests sent during a redeploy (2 clients), median / total', `${median(pick('sent'))} / ${pick('sent').reduce((a, b) => a + b, 0)}`, `every redeploy saw both releases: ${local.redeploys.every((r) => r.versionsSeen === 2)}`],
    ['failed requests during all redeploys', String(pick('failed').reduce((a, b) => a + b, 0)), 'must be 0'],
    [`restart after a crash, /crash → first 200 of the new process, median of ${local.restartsMs.length}`, ms(restart), ratio(restart, floor)],
    [`disk after ${local.disk.builds} builds: the droplet's directory`, mb(local.disk.dropletDir), `${local.disk.releasesKept} releases kept (DEPLOY_KEEP_RELEASES=${keep}); one release ${mb(local.disk.oneRelease)}`],
    ['disk: DATA_DIR/deployments (with the supervisor program)', mb(local.disk.deployments), `unpruned would hold ${local.disk.builds} releases, ${mb(local.disk.builds * local.disk.oneRelease)} of them`],
  ];
  if (ssh) {
    rows.push([`SSH host, ${ssh.builds} builds: the droplet's directory`, mb(ssh.dropletDir), `${ssh.releasesKept} releases kept`]);
    rows.push(['SSH host: the deploy base dir (supervisor, module store)', mb(ssh.baseDir), `redeploy median ${ms(median(ssh.deployMs))}, ${ratio(median(ssh.deployMs), floor)}`]);
  }
  rows.push(['supervisor RSS, idle (after the first deploy)', mb(local.rss.supervisorIdle), `bare idle node: ${mb(local.rss.bareNode)} (${(local.rss.supervisorIdle / local.rss.bareNode).toFixed(2)}×)`]);
  rows.push([`supervisor RSS after the redeploys, crashes and a 3 s burst (${local.rss.burstRequests} requests, 10 connections)`, mb(local.rss.supervisorAfterLoad), `${(local.rss.supervisorAfterLoad / local.rss.bareNode).toFixed(2)}× the bare node`]);
  rows.push([`  after a second 3 s burst (${local.rss.burstAgain} requests)`, mb(local.rss.supervisorAfterMore), `${(local.rss.supervisorAfterMore / local.rss.bareNode).toFixed(2)}× the bare node`]);
  console.log(`\nDeploys on the local target (droplets ${local.sandboxed ? 'in the bubblewrap service sandbox' : 'without bubblewrap'}, one host, 2 cores):`);
  printTable(rows);
  console.log('\n  The floor is the least a deploy or a restart must do here: one node process to its first healthy answer. A deploy adds the lock,');
  console.log('  the git-archive upload, host commands (each a process; each supervisor request a node start, see above), the sandbox, the');
  console.log('  gate\'s 100 ms polls, the drain and the stop; a restart adds the 200 ms initial back-off and the sandbox.');
}

async function main(): Promise<void> {
  const rebuilds = argument('rebuilds', 20);
  const crashes = argument('crashes', 5);
  const started = performance.now();
  const local = await localFigures(rebuilds, crashes);
  const ssh = process.argv.includes('--no-ssh') ? null : await sshDisk(rebuilds);
  report(local, ssh, loadConfig({}).DEPLOY_KEEP_RELEASES);
  console.log(`\n  (${((performance.now() - started) / 1000).toFixed(0)} s in all)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
