/**
 * The per-droplet supervisor (host-agent/droplet-supervisor.mjs) against real processes on
 * loopback: tiny node HTTP servers as releases, its CLI as the executor drives it, and
 * clients on its public port.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Droplet, SUPERVISOR, cleanupDroplets, ctl, getText, hammer, makeDroplet, running, startServing,
  supervisorCli, supervisorLog, until,
} from '../support/supervisor-fixture.js';

afterEach(async () => {
  await cleanupDroplets();
});

function expectNoUncaughtErrors(droplet: Droplet): void {
  expect(supervisorLog(droplet)).not.toContain('uncaught');
}

function rssOf(pid: number): string {
  return /VmRSS:\s*(\d+ kB)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'unknown';
}

describe('droplet supervisor: serving and switching', () => {
  it('start serves the current release on the public port and reports it in status', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const status = await startServing(droplet);
    expect(status).toMatchObject({ ok: true, listen: { host: '127.0.0.1', port: droplet.port }, state: 'running', candidate: null });
    expect(status.active).toMatchObject({ release: 'b1', restarts: 0, healthy: true });
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });

    // A second start finds it running and prints the same supervisor's status.
    const again = await supervisorCli(['start', droplet.dir]);
    expect(again.code).toBe(0);
    expect(again.answer?.pid).toBe(status.pid);
    const records = JSON.parse(readFileSync(join(droplet.dir, 'run', 'backends.json'), 'utf8')) as unknown[];
    expect(records).toEqual([expect.objectContaining({ pgid: status.active?.pid, release: 'b1', cwd: join(droplet.dir, 'releases', 'b1') })]);
    expectNoUncaughtErrors(droplet);
  });

  it('prepare and promote switch releases under a hammering client with zero failed requests', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving', b2: 'serving' }, current: 'b1' });
    const before = await startServing(droplet);
    const clients = hammer(`${droplet.url}/`);
    await until(() => false, 300); // let traffic flow on b1 first

    const prepared = await ctl(droplet.dir, { cmd: 'prepare', release: 'b2' });
    expect(prepared.answer).toMatchObject({ ok: true, candidate: { release: 'b2', healthy: true } });
    const promoted = await ctl(droplet.dir, { cmd: 'promote', release: 'b2' });
    await until(() => false, 300); // and on b2 after
    const result = await clients.stop();

    expect(promoted.answer).toMatchObject({ ok: true, active: { release: 'b2' }, stopped: { release: 'b1', pid: before.active?.pid } });
    expect(result.failures).toEqual([]);
    expect([...result.seen.keys()].sort()).toEqual(['b1', 'b2']);
    expect(running(before.active?.pid ?? 0)).toBe(false);
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b2' });
    console.log(`switch under load: ${result.sent} requests, ${result.failures.length} failed; supervisor RSS ${rssOf(before.pid ?? 0)}`);

    // Preparing the active release again is a no-op that says so.
    expect((await ctl(droplet.dir, { cmd: 'prepare', release: 'b2' })).answer).toMatchObject({ ok: true, alreadyActive: true, active: { release: 'b2' } });
    expectNoUncaughtErrors(droplet);
  });

  it('promote lets a request in flight on the old release finish before stopping it', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving', b2: 'serving' }, current: 'b1' });
    await startServing(droplet);
    const slow = getText(`${droplet.url}/slow?ms=1500`);
    await until(() => false, 200);
    expect((await ctl(droplet.dir, { cmd: 'prepare', release: 'b2' })).answer?.ok).toBe(true);
    const promoted = await ctl(droplet.dir, { cmd: 'promote', release: 'b2' });
    expect(promoted.answer).toMatchObject({ ok: true, stopped: { release: 'b1' } });
    expect(await slow).toEqual({ status: 200, text: 'b1' });
  });

  it('restart rolls the active release with zero failed requests', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const before = await startServing(droplet);
    const clients = hammer(`${droplet.url}/`);
    await until(() => false, 300);
    const restarted = await ctl(droplet.dir, { cmd: 'restart' });
    await until(() => false, 300);
    const result = await clients.stop();

    expect(restarted.answer).toMatchObject({ ok: true, active: { release: 'b1', healthy: true }, stopped: { release: 'b1', pid: before.active?.pid } });
    expect(restarted.answer?.active?.pid).not.toBe(before.active?.pid);
    expect(result.failures).toEqual([]);
    expect(result.seen.get('b1')).toBeGreaterThan(0);
    expect(running(before.active?.pid ?? 0)).toBe(false);
  });
});

describe('droplet supervisor: failures', () => {
  it('a candidate that never becomes healthy leaves the active one serving and returns its log tail', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving', bad: 'never-healthy' }, current: 'b1' });
    await startServing(droplet);
    const prepared = await ctl(droplet.dir, { cmd: 'prepare', release: 'bad' });
    expect(prepared.code).toBe(0);
    expect(prepared.answer).toMatchObject({ ok: false, error: { code: 'HEALTH_GATE_FAILED' } });
    expect(prepared.answer?.error?.log).toContain('still warming up: the cache never fills');

    const status = (await ctl(droplet.dir, { cmd: 'status' })).answer;
    expect(status).toMatchObject({ state: 'running', active: { release: 'b1', healthy: true }, candidate: null });
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
    expect((await ctl(droplet.dir, { cmd: 'promote', release: 'bad' })).answer).toMatchObject({ ok: false, error: { code: 'NO_CANDIDATE' } });
  });

  it('a candidate that exits fails at once (EXITED), an unknown release is NO_RELEASE, a discarded candidate is stopped', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving', b2: 'serving', dies: 'exits' }, current: 'b1' });
    await startServing(droplet);
    const died = await ctl(droplet.dir, { cmd: 'prepare', release: 'dies' });
    expect(died.answer).toMatchObject({ ok: false, error: { code: 'EXITED' } });
    expect(died.answer?.error?.log).toContain('boom: DATABASE_URL is not set');
    expect((await ctl(droplet.dir, { cmd: 'prepare', release: 'b9' })).answer).toMatchObject({ ok: false, error: { code: 'NO_RELEASE' } });
    expect((await ctl(droplet.dir, { cmd: 'prepare', release: '../b1' })).answer).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });

    const candidate = (await ctl(droplet.dir, { cmd: 'prepare', release: 'b2' })).answer?.candidate;
    expect(candidate).toMatchObject({ release: 'b2', healthy: true });
    expect((await ctl(droplet.dir, { cmd: 'discard', release: 'b2' })).answer).toEqual({ ok: true });
    expect(running(candidate?.pid ?? 0)).toBe(false);
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
  });

  it('a crashed backend is restarted and answers again; requests meanwhile are held, not failed', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const before = await startServing(droplet);
    const clients = hammer(`${droplet.url}/`);
    await until(() => false, 200);
    expect(await getText(`${droplet.url}/crash`)).toEqual({ status: 200, text: 'crashing' });
    expect(await until(() => !running(before.active?.pid ?? 0))).toBe(true);

    // Requests sent while it is down are held until it is back, so this one answers too.
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
    const result = await clients.stop();
    expect(result.failures).toEqual([]);
    const after = (await ctl(droplet.dir, { cmd: 'status' })).answer;
    expect(after).toMatchObject({ state: 'running', active: { release: 'b1', restarts: 1, healthy: true } });
    expect(after?.active?.pid).not.toBe(before.active?.pid);
    expectNoUncaughtErrors(droplet);
  });

  it('an idle supervisor answers 503 with the UDC error body', async () => {
    const droplet = await makeDroplet({ releases: {} });
    const started = await supervisorCli(['start', droplet.dir]);
    expect(started.answer).toMatchObject({ ok: true, state: 'idle', active: null, candidate: null });
    const response = await fetch(`${droplet.url}/anything`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(await response.json()).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), details: {} } });
  });

  it('a client aborting mid-request does not hurt the supervisor', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const status = await startServing(droplet);
    for (let i = 0; i < 5; i += 1) {
      await expect(fetch(`${droplet.url}/slow?ms=2000`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    }
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
    expect(running(status.pid ?? 0)).toBe(true);
    expectNoUncaughtErrors(droplet);
  });
});

describe('droplet supervisor: lifecycle', () => {
  it('shutdown stops the backends and the supervisor; ctl then answers NOT_RUNNING with exit 3', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const status = await startServing(droplet);
    const answer = await ctl(droplet.dir, { cmd: 'shutdown' });
    expect(answer).toMatchObject({ code: 0, answer: { ok: true } });
    expect(await until(() => !running(status.pid ?? 0))).toBe(true);
    expect(running(status.active?.pid ?? 0)).toBe(false);
    const after = await ctl(droplet.dir, { cmd: 'status' });
    expect(after.code).toBe(3);
    expect(after.answer).toMatchObject({ ok: false, error: { code: 'NOT_RUNNING' } });
  });

  it('works in a droplet dir deeper than a unix socket address may be long', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1', deep: true });
    expect(join(droplet.dir, 'run', 'supervisor.sock').length).toBeGreaterThan(108);
    const status = await startServing(droplet);
    expect(status.active).toMatchObject({ release: 'b1', healthy: true });
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
  });

  it('ctl on a droplet dir that does not exist answers NOT_RUNNING with exit 3', async () => {
    const answer = await ctl(join(tmpdir(), 'no-such-droplet-dir'), { cmd: 'status' });
    expect(answer).toMatchObject({ code: 3, answer: { ok: false, error: { code: 'NOT_RUNNING' } } });
  });

  it('a second run refuses while one answers', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const status = await startServing(droplet);
    const second = await supervisorCli(['run', droplet.dir]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`already running for ${droplet.dir} (pid ${status.pid})`);
    expect((await ctl(droplet.dir, { cmd: 'status' })).answer?.pid).toBe(status.pid);
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
  });

  it('the next supervisor kills the backend a SIGKILLed one left behind', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const first = await startServing(droplet);
    const orphan = first.active?.pid ?? 0;
    process.kill(first.pid ?? 0, 'SIGKILL');
    expect(await until(() => !running(first.pid ?? 0))).toBe(true);
    expect(running(orphan)).toBe(true);

    const second = await startServing(droplet);
    expect(second.pid).not.toBe(first.pid);
    expect(await until(() => !running(orphan))).toBe(true);
    expect(second.active?.pid).not.toBe(orphan);
    expect(await getText(`${droplet.url}/`)).toEqual({ status: 200, text: 'b1' });
  });
});

describe('droplet supervisor: leftovers and bad configuration', () => {
  it('never kills a recorded pid that is now another process (other start time or other cwd)', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    const strangers = [0, 1].map(() => spawn('sleep', ['300'], { detached: true, stdio: 'ignore', cwd: tmpdir() }));
    try {
      const [recycled, moved] = strangers.map((child) => child.pid ?? 0) as [number, number];
      const startTicks = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
      mkdirSync(join(droplet.dir, 'run'), { recursive: true });
      writeFileSync(
        join(droplet.dir, 'run', 'backends.json'),
        JSON.stringify([
          { pgid: recycled, release: 'b0', cwd: realpathSync(tmpdir()), startTicks: '1' },
          { pgid: moved, release: 'b0', cwd: join(droplet.dir, 'releases', 'b0'), startTicks: startTicks(moved) },
        ]),
      );
      await startServing(droplet);
      expect(running(recycled)).toBe(true);
      expect(running(moved)).toBe(true);
    } finally {
      for (const child of strangers) child.kill('SIGKILL');
    }
  });

  it('start reports a supervisor that cannot run, with the end of its log', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    writeFileSync(join(droplet.dir, 'supervisor.json'), JSON.stringify({ version: 1, listen: { port: 'eighty' } }));
    const started = await supervisorCli(['start', droplet.dir]);
    expect(started.code).toBe(1);
    expect(started.answer).toMatchObject({ ok: false, error: { code: 'START_FAILED' } });
    expect(started.answer?.error?.message).toContain('supervisor.json: listen must be {host, port}');
  });
});

describe('droplet supervisor: what reaches the backend', () => {
  it('the backend environment is the env file, then launch.env, then SERVICE_PORT and HOST: nothing of the supervisor', async () => {
    const droplet = await makeDroplet({
      releases: { b1: 'serving' },
      current: 'b1',
      envFile: '# the droplet\n\nGREETING=hello world\nLITERAL="$HOME and ${PATH}"\nSHARED=from-file\r\nnot a line\n',
      launchEnv: { PATH: '/usr/bin:/bin', SHARED: 'from-launch', RELEASE_DIR: '{release}', PORT_COPY: '{port}' },
    });
    // Run the daemon in the foreground with a secret in its own environment.
    const daemon = spawn(process.execPath, [SUPERVISOR, 'run', droplet.dir], {
      env: { ...process.env, EXECUTOR_SECRET: 'must-not-leak' },
      stdio: 'ignore',
    });
    try {
      expect(await until(async () => (await ctl(droplet.dir, { cmd: 'status' })).answer?.state === 'running')).toBe(true);
      const status = (await ctl(droplet.dir, { cmd: 'status' })).answer;
      const env = JSON.parse((await getText(`${droplet.url}/env`)).text) as Record<string, string>;
      expect(env).toEqual({
        GREETING: 'hello world',
        LITERAL: '"$HOME and ${PATH}"',
        SHARED: 'from-launch',
        PATH: '/usr/bin:/bin',
        RELEASE_DIR: join(droplet.dir, 'releases', 'b1'),
        PORT_COPY: String(status?.active?.port),
        SERVICE_PORT: String(status?.active?.port),
        HOST: '127.0.0.1',
      });
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
  });

  it('request bodies and headers are forwarded; a body over 1 MiB gets 413', async () => {
    const droplet = await makeDroplet({ releases: { b1: 'serving' }, current: 'b1' });
    await startServing(droplet);
    const response = await fetch(`${droplet.url}/echo?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-custom': 'kept' },
      body: JSON.stringify({ plant: 'fern' }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const echoed = (await response.json()) as { method: string; body: string; headers: Record<string, string> };
    expect(echoed.method).toBe('POST');
    expect(JSON.parse(echoed.body)).toEqual({ plant: 'fern' });
    expect(echoed.headers).toMatchObject({
      'x-custom': 'kept',
      'content-type': 'application/json',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': `127.0.0.1:${droplet.port}`,
    });

    const tooLarge = await fetch(`${droplet.url}/echo`, { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) });
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE', details: {} } });
  });
});
