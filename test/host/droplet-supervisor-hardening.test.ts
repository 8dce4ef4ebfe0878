/**
 * The supervisor against what one droplet (or a careless start) can do to another on the same
 * host: take the private port picked for its backend, start a second supervisor beside it,
 * fill the disk through its log; and each release starting its own entry point. Real
 * processes on loopback, as in droplet-supervisor.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SUPERVISOR, cleanupDroplets, ctl, getText, makeDroplet, running, startServing, supervisorCli, supervisorLog, until,
} from '../support/supervisor-fixture.js';

const squatters: Squatter[] = [];

afterEach(async () => {
  await Promise.all(squatters.splice(0).map((squatter) => squatter.stop()));
  await cleanupDroplets();
});

/** Another droplet's process: binds the ports it is given on 127.0.0.1 and answers /health healthy on them. */
class Squatter {
  private readonly servers: http.Server[] = [];
  private readonly watches: NodeJS.Timeout[] = [];
  healthChecks = 0;
  /** Every other request it got: traffic meant for the droplet. */
  readonly stolen: string[] = [];

  constructor() {
    squatters.push(this);
  }

  take(port: number): Promise<void> {
    const server = http.createServer((req, res) => {
      if (req.url === '/health') this.healthChecks += 1;
      else this.stolen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"healthy"}');
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  }

  /** Takes each port a `reports-port` release writes to its port file, as soon as it appears. */
  watch(portFile: string): void {
    const taken = new Set<string>();
    const watch = setInterval(() => {
      const ports = existsSync(portFile) ? readFileSync(portFile, 'utf8').split('\n').filter(Boolean) : [];
      for (const port of ports.filter((p) => !taken.has(p))) {
        taken.add(port);
        void this.take(Number(port)).catch(() => undefined);
      }
    }, 20);
    this.watches.push(watch);
  }

  async stop(): Promise<void> {
    for (const watch of this.watches) clearInterval(watch);
    await Promise.all(this.servers.map((server) => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    })));
  }
}

describe('droplet supervisor: a backend port taken by another process', () => {
  it('a healthy answer from a process outside the backend\'s group fails the gate, and that process gets no traffic', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving', bait: 'reports-port' }, current: 'b1' });
    await startServing(droplet);
    const squatter = new Squatter();
    squatter.watch(join(droplet.dir, 'releases', 'bait', 'port'));

    const prepared = await ctl(droplet.dir, { cmd: 'prepare', release: 'bait' });
    expect(prepared.answer).toMatchObject({ ok: false, error: { code: 'HEALTH_GATE_FAILED' } });
    expect(prepared.answer?.error?.message).toContain('is not its own process');
    expect(squatter.healthChecks).toBeGreaterThan(0); // it did answer the gate, healthy
    expect((await ctl(droplet.dir, { cmd: 'promote', release: 'bait' })).answer).toMatchObject({ ok: false, error: { code: 'NO_CANDIDATE' } });

    const status = (await ctl(droplet.dir, { cmd: 'status' })).answer;
    expect(status).toMatchObject({ state: 'running', active: { release: 'b1', healthy: true }, candidate: null });
    for (let i = 0; i < 5; i += 1) expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
    expect(squatter.stolen).toEqual([]);
  });

  it('promote refuses a candidate whose port another process holds by then, and stops it', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving', b2: 'serving' }, current: 'b1' });
    await startServing(droplet);
    const candidate = (await ctl(droplet.dir, { cmd: 'prepare', release: 'b2' })).answer?.candidate;
    expect(candidate).toMatchObject({ release: 'b2', healthy: true });
    const port = candidate?.port ?? 0;
    expect(await getText(`http://127.0.0.1:${port}/unlisten`)).toEqual({ status: 200, text: 'unlistening' });
    const squatter = new Squatter();
    expect(await until(() => squatter.take(port).then(() => true, () => false))).toBe(true);

    const promoted = await ctl(droplet.dir, { cmd: 'promote', release: 'b2' });
    expect(promoted.answer).toMatchObject({ ok: false, error: { code: 'PORT_NOT_OWNED' } });
    expect(await until(() => !running(candidate?.pid ?? 0))).toBe(true);
    expect((await ctl(droplet.dir, { cmd: 'status' })).answer).toMatchObject({ active: { release: 'b1' }, candidate: null });
    for (let i = 0; i < 5; i += 1) expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
    expect(squatter.stolen).toEqual([]);
  });

  it('a backend that lost its port to a race (EADDRINUSE) is started once more on another port', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving', racy: 'loses-port-race-once' }, current: 'b1' });
    await startServing(droplet);
    const prepared = await ctl(droplet.dir, { cmd: 'prepare', release: 'racy' });
    expect(prepared.answer).toMatchObject({ ok: true, candidate: { release: 'racy', healthy: true } });
    expect(readFileSync(join(droplet.dir, 'logs', 'racy.log'), 'utf8')).toContain('EADDRINUSE');
  });
});

/** Spawns `run` in the foreground and keeps what it printed. */
function runDaemon(dir: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [SUPERVISOR, 'run', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('droplet supervisor: two supervisors for one droplet', () => {
  it('of two runs started at once, one serves and answers with its own pid; the other leaves its socket and pid file alone', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const runs = [runDaemon(droplet.dir), runDaemon(droplet.dir)];
    const loser = await Promise.race(runs.map((run) => run.exited.then(() => run)));
    const winner = runs.find((run) => run !== loser);
    expect(loser.output()).toContain('already running');
    expect(await loser.exited).toBe(0);

    expect(await until(async () => (await ctl(droplet.dir, { cmd: 'status' })).answer?.state === 'running')).toBe(true);
    const status = (await ctl(droplet.dir, { cmd: 'status' })).answer;
    expect(status?.pid).toBe(winner?.child.pid);
    expect(readFileSync(join(droplet.dir, 'run', 'supervisor.pid'), 'utf8').trim()).toBe(String(winner?.child.pid));
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });

    expect((await ctl(droplet.dir, { cmd: 'shutdown' })).answer).toEqual({ ok: true });
    expect(await winner?.exited).toBe(0);
    await expect(fetch(`${droplet.url}/`)).rejects.toThrow();
    expect((await ctl(droplet.dir, { cmd: 'status' })).answer).toMatchObject({ ok: false, error: { code: 'NOT_RUNNING' } });
    expect(existsSync(join(droplet.dir, 'run', 'supervisor.pid'))).toBe(false);
  });

  it('a start right after a shutdown waits for the stopping supervisor and then serves', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'slow-to-stop' }, current: 'b1' });
    const first = await startServing(droplet);
    expect((await ctl(droplet.dir, { cmd: 'shutdown' })).answer).toEqual({ ok: true });
    const second = await startServing(droplet);
    expect(second.pid).not.toBe(first.pid);
    expect(running(first.pid ?? 0)).toBe(false);
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
  });

  it('a start while the old supervisor resets control connections (closing its socket) waits for it to go, then serves', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const closing = await resettingControlSocket(droplet.dir);
    setTimeout(() => closing.close(), 1_500);
    const started = await startServing(droplet);
    expect(closing.resets()).toBeGreaterThan(0);
    expect(running(started.pid ?? 0)).toBe(true);
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
  });
});

/**
 * What a supervisor's control socket does while it closes: it accepts, reads nothing, and drops the
 * connection with the request unread, which Linux reports to the client as ECONNRESET.
 */
async function resettingControlSocket(dropletDir: string): Promise<{ resets: () => number; close: () => void }> {
  mkdirSync(join(dropletDir, 'run'), { recursive: true, mode: 0o700 });
  let resets = 0;
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    setTimeout(() => {
      resets += 1;
      socket.destroy();
    }, 50);
  });
  await new Promise<void>((resolve) => server.listen(join(dropletDir, 'run', 'supervisor.sock'), resolve));
  return { resets: () => resets, close: () => server.close() };
}

describe('droplet supervisor: each release its own entry point', () => {
  it('{entry} is launch.entries[release], src/server.js when it names none; switching back and forth starts each one right', async () => {
    const droplet = await makeDroplet({
      releases: { b1: { kind: 'serving', file: 'main.mjs' }, b2: { kind: 'serving', file: 'lib/app.js' }, b3: { kind: 'serving', file: 'src/server.js' } },
      entries: { b1: 'main.mjs', b2: 'lib/app.js' },
      current: 'b1',
    });
    const entry = async () => (await getText(`${droplet.url}/entry`)).text;
    await startServing(droplet);
    expect(await entry()).toBe(join(droplet.dir, 'releases', 'b1', 'main.mjs'));
    for (const [release, file] of [['b2', 'lib/app.js'], ['b1', 'main.mjs'], ['b3', 'src/server.js']] as const) {
      expect((await ctl(droplet.dir, { cmd: 'prepare', release })).answer).toMatchObject({ ok: true, candidate: { release } });
      expect((await ctl(droplet.dir, { cmd: 'promote', release })).answer).toMatchObject({ ok: true, active: { release } });
      expect(await entry()).toBe(join(droplet.dir, 'releases', release, file));
    }
    expect((await ctl(droplet.dir, { cmd: 'restart' })).answer).toMatchObject({ ok: true, active: { release: 'b3' } });
    expect(await entry()).toBe(join(droplet.dir, 'releases', 'b3', 'src', 'server.js'));
  });

  it('an entry that is absolute, climbs out with .., or holds NUL or braces is refused as BAD_ENTRY', async () => {
    const unsafe = { up: '../b1/main.mjs', inner: 'lib/../../b1/main.mjs', absolute: '/etc/hostname', nul: 'main.mjs\0.js', braces: '{release}/main.mjs', empty: '' };
    const releases = Object.fromEntries(['b1', ...Object.keys(unsafe)].map((id) => [id, { kind: 'serving', file: 'main.mjs' } as const]));
    const droplet = await makeDroplet({ releases, entries: { b1: 'main.mjs', ...unsafe }, current: 'b1' });
    await startServing(droplet);
    for (const [release, value] of Object.entries(unsafe)) {
      const prepared = await ctl(droplet.dir, { cmd: 'prepare', release });
      expect(prepared.answer).toMatchObject({ ok: false, error: { code: 'BAD_ENTRY' } });
      expect(prepared.answer?.error?.message).toContain(JSON.stringify(value));
    }
    expect(supervisorLog(droplet)).toContain('BAD_ENTRY');
    expect((await ctl(droplet.dir, { cmd: 'status' })).answer).toMatchObject({ active: { release: 'b1', healthy: true }, candidate: null });
  });
});

describe('droplet supervisor: release logs are capped', () => {
  const cap = 256 * 1024;

  it('a log over logMaxBytes is rotated to .log.1 before the backend starts', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1', config: { logMaxBytes: cap } });
    mkdirSync(join(droplet.dir, 'logs'), { recursive: true });
    writeFileSync(join(droplet.dir, 'logs', 'b1.log'), `${'old line\n'.repeat(40_000)}the last old line\n`);
    await startServing(droplet);
    const log = readFileSync(join(droplet.dir, 'logs', 'b1.log'), 'utf8');
    expect(log).toContain('b1 listening on');
    expect(log).not.toContain('old line');
    const old = readFileSync(join(droplet.dir, 'logs', 'b1.log.1'), 'utf8');
    expect(old.endsWith('the last old line\n')).toBe(true);
    expect(old.length).toBeLessThanOrEqual(cap);
  });

  it('a release that floods its log while running is kept under twice logMaxBytes, and writes on at the start of the file', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'floods-log' }, current: 'b1', config: { logMaxBytes: cap, logCheckMs: 200 } });
    const status = await startServing(droplet);
    const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : 0);
    const [log, old] = ['b1.log', 'b1.log.1'].map((name) => join(droplet.dir, 'logs', name)) as [string, string];
    let largest = 0;
    const written = async () => Number((await getText(`${droplet.url}/written`)).text);
    expect(await until(async () => {
      largest = Math.max(largest, sizeOf(log), sizeOf(old));
      return (await written()) > 4 * cap;
    }, 30_000)).toBe(true);

    expect(largest).toBeLessThan(2 * cap);
    expect(sizeOf(old)).toBeGreaterThan(0);
    expect(sizeOf(old)).toBeLessThanOrEqual(cap);
    expect(readFileSync(log).includes(0)).toBe(false); // O_APPEND: no hole of zeros where the truncated part was
    expect((await ctl(droplet.dir, { cmd: 'status' })).answer?.active?.pid).toBe(status.active?.pid);
    expect(supervisorLog(droplet)).toContain('rotated');
  });
});

describe('droplet supervisor: bad log settings', () => {
  it('start refuses a zero logMaxBytes', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1', config: { logMaxBytes: 0 } });
    const started = await supervisorCli(['start', droplet.dir]);
    expect(started.answer).toMatchObject({ ok: false, error: { code: 'START_FAILED' } });
    expect(started.answer?.error?.message).toContain('logMaxBytes');
  });
});
