/**
 * The systemd side of supervision: the unit text and the systemctl commands the launcher
 * runs on a host. systemd cannot run on this machine or in CI (no PID 1 systemd in the
 * container), so these drive the real SystemdLauncher and SupervisorClient over a
 * recording HostShell that answers like a host would, and check what was sent.
 */
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { HostOps } from '../../src/deploy/fleet/host-ops.js';
import { SystemdLauncher, unitFile, unitName } from '../../src/deploy/fleet/launcher.js';
import { HostLayout } from '../../src/deploy/fleet/layout.js';
import { SupervisorClient } from '../../src/deploy/fleet/supervisor.js';
import type { ExecOptions, ExecResult, HostShell, HostUser } from '../../src/deploy/shell/types.js';

const NODE = '/usr/bin/node';
const PROGRAM = '/home/deployer/droplets/.executor/supervisor-0123456789ab.mjs';
const HOME = '/home/deployer';
const droplet = new HostLayout(`${HOME}/droplets`).droplet('plant-tracker');
const UNIT = unitName('plant-tracker');

interface Call {
  argv: string[];
  asRunner: boolean;
  stdin?: string;
}

const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const NOT_RUNNING: ExecResult = { code: 3, stdout: '{"ok":false,"error":{"code":"NOT_RUNNING","message":"no supervisor"}}\n', stderr: '' };
const STATUS = { ok: true, pid: 4242, listen: { host: '0.0.0.0', port: 20001 }, state: 'running', active: null, candidate: null };

/** A host that records every command; the supervisor answers once systemd was asked to start it (unless `unitFails`). */
class RecordingHost implements HostShell {
  readonly label = 'deployer@host.test:22';
  readonly address = 'host.test';
  readonly calls: Call[] = [];
  private unitStarted = false;

  constructor(private readonly options: { running?: boolean; unitFails?: boolean } = {}) {}

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], asRunner: options.asRunner === true, ...(options.stdin !== undefined ? { stdin: options.stdin } : {}) });
    if (argv[0] === NODE && argv[2] === 'ctl') {
      const up = this.options.running || (this.unitStarted && !this.options.unitFails);
      return up ? ok(`${JSON.stringify(STATUS)}\n`) : NOT_RUNNING;
    }
    if (argv[0] === 'systemctl' && argv.includes('enable')) this.unitStarted = true;
    if (argv[0] === 'sh' && argv[2] === 'cd && pwd') return ok(`${HOME}\n`);
    return ok();
  }

  upload(): Promise<void> {
    return Promise.reject(new Error('nothing is uploaded by the launcher'));
  }

  runner(): Promise<HostUser> {
    return Promise.resolve({ user: 'droplets', uid: 1500, gid: 1500 });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The commands, shortened to what tells them apart: ctl requests by their cmd, sh scripts by their first argument. */
  summary(): string[] {
    return this.calls.map(({ argv }) => {
      if (argv[0] === NODE) return `supervisor ${argv[2] === 'ctl' ? (JSON.parse(argv[4]!) as { cmd: string }).cmd : argv[2]}`;
      if (argv[0] === 'sh') return argv[2] === 'cd && pwd' ? 'home' : argv[2]!.startsWith('umask') ? `write ${argv[4]}` : `remove ${argv.slice(4).join(' ')}`;
      return argv.join(' ');
    });
  }
}

function launcherOn(host: RecordingHost, mode: 'systemd' | 'systemd-user', startWaitMs?: number): SystemdLauncher {
  const ops = new HostOps(host);
  return new SystemdLauncher(mode, ops, new SupervisorClient(ops, NODE, PROGRAM), 'droplets', startWaitMs);
}

describe('unitFile', () => {
  const command = [NODE, PROGRAM, 'run', droplet.dir];

  it('runs the supervisor in the foreground, restarted on failure, as the droplet user for a system unit', () => {
    const text = unitFile({ name: 'plant-tracker', command, user: 'droplets', userUnit: false });
    const lines = text.split('\n');
    expect(lines).toContain(`ExecStart=${NODE} ${PROGRAM} run ${HOME}/droplets/plant-tracker`);
    expect(lines).toContain('Type=simple');
    expect(lines).toContain('Restart=on-failure');
    expect(lines).toContain('User=droplets');
    expect(lines).toContain('WantedBy=multi-user.target');
    expect(lines.indexOf('[Service]')).toBeLessThan(lines.indexOf('Restart=on-failure'));
    expect(lines.indexOf('[Install]')).toBeLessThan(lines.indexOf('WantedBy=multi-user.target'));
    expect(text.endsWith('\n')).toBe(true);
  });

  it('a user unit names no User= (it runs as the user whose manager it is) and starts with the user session', () => {
    const text = unitFile({ name: 'plant-tracker', command, user: 'droplets', userUnit: true });
    expect(text).not.toMatch(/^User=/m);
    expect(text.split('\n')).toContain('WantedBy=default.target');
    expect(text.split('\n')).toContain('Restart=on-failure');
  });

  it('quotes a word with blanks or quotes C-style, and doubles % and $ (systemd expands them even inside quotes)', () => {
    const text = unitFile({ name: 'x', command: ['/opt/node 20/bin/node', '/srv/a"b\\c', '/srv/100%', '/srv/$HOME', 'run'], userUnit: false });
    const execStart = text.split('\n').find((line) => line.startsWith('ExecStart='));
    expect(execStart).toBe('ExecStart="/opt/node 20/bin/node" "/srv/a\\"b\\\\c" "/srv/100%%" "/srv/$$HOME" run');
  });

  it('refuses a control character rather than write a unit that means something else', () => {
    expect(() => unitFile({ name: 'x', command: [NODE, '/srv/a\nExecStartPre=/bin/evil'], userUnit: false })).toThrow(/control character/);
  });
});

describe('SystemdLauncher (system units)', () => {
  it('describes itself by unit', () => {
    expect(launcherOn(new RecordingHost(), 'systemd').describe('plant-tracker')).toBe(`systemd:${UNIT}`);
    expect(launcherOn(new RecordingHost(), 'systemd-user').describe('plant-tracker')).toBe(`systemd-user:${UNIT}`);
  });

  it('writes the unit to /etc/systemd/system, reloads, enables it with --now, then waits for its supervisor', async () => {
    const host = new RecordingHost();
    const status = await launcherOn(host, 'systemd').ensureRunning(droplet, 'plant-tracker');
    expect(status.pid).toBe(4242);
    const path = `/etc/systemd/system/${UNIT}`;
    expect(host.summary()).toEqual([
      'supervisor status',
      'mkdir -p /etc/systemd/system',
      `write ${path}`,
      'systemctl daemon-reload',
      `systemctl enable --now ${UNIT}`,
      'supervisor status',
    ]);
    const written = host.calls.find((call) => call.argv[4] === path)!;
    expect(written.argv[5]).toBe('644');
    expect(written.stdin).toBe(unitFile({ name: 'plant-tracker', command: [NODE, PROGRAM, 'run', droplet.dir], user: 'droplets', userUnit: false }));
    // Status requests go as the droplet user (the supervisor's socket is its); systemctl as the deploying user.
    expect(host.calls.filter((call) => call.argv[2] === 'ctl').every((call) => call.asRunner)).toBe(true);
    expect(host.calls.filter((call) => call.argv[0] === 'systemctl').some((call) => call.asRunner)).toBe(false);
  });

  it('touches nothing when the supervisor already answers', async () => {
    const host = new RecordingHost({ running: true });
    await launcherOn(host, 'systemd').ensureRunning(droplet, 'plant-tracker');
    expect(host.summary()).toEqual(['supervisor status']);
  });

  it('stops with disable --now (not started again at boot), and removes the unit file on undeploy', async () => {
    const host = new RecordingHost();
    const launcher = launcherOn(host, 'systemd');
    await launcher.stop(droplet, 'plant-tracker');
    expect(host.summary()).toEqual([`systemctl disable --now ${UNIT}`]);
    host.calls.length = 0;
    await launcher.remove(droplet, 'plant-tracker');
    expect(host.summary()).toEqual([`systemctl disable --now ${UNIT}`, `remove /etc/systemd/system/${UNIT}`, 'systemctl daemon-reload']);
  });

  it('fails naming the unit and its journal when systemd did not bring the supervisor up, and starts no second supervisor', async () => {
    const host = new RecordingHost({ unitFails: true });
    const failure = await launcherOn(host, 'systemd', 300)
      .ensureRunning(droplet, 'plant-tracker')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepError);
    expect((failure as StepError).code).toBe('DEPLOY_SUPERVISOR_FAILED');
    expect((failure as StepError).message).toContain(UNIT);
    expect((failure as StepError).message).toContain(`journalctl -u ${UNIT}`);
    expect((failure as StepError).details).toMatchObject({ unit: UNIT, host: host.label });
    // Only status requests went to the supervisor program: never its detached `start`.
    const supervisorCommands = new Set(host.summary().filter((line) => line.startsWith('supervisor ')));
    expect([...supervisorCommands]).toEqual(['supervisor status']);
  });
});

describe('SystemdLauncher (--user units)', () => {
  it("writes the unit under the login's own ~/.config/systemd/user, found on the host, and runs systemctl --user", async () => {
    const host = new RecordingHost();
    await launcherOn(host, 'systemd-user').ensureRunning(droplet, 'plant-tracker');
    const path = `${HOME}/.config/systemd/user/${UNIT}`;
    expect(host.summary()).toEqual([
      'supervisor status',
      'home',
      `mkdir -p ${HOME}/.config/systemd/user`,
      `write ${path}`,
      'systemctl --user daemon-reload',
      `systemctl --user enable --now ${UNIT}`,
      'supervisor status',
    ]);
    expect(host.calls.find((call) => call.argv[4] === path)!.stdin).not.toMatch(/^User=/m);
  });

  it('stops and removes through systemctl --user, asking the host for its home once', async () => {
    const host = new RecordingHost();
    const launcher = launcherOn(host, 'systemd-user');
    await launcher.stop(droplet, 'plant-tracker');
    await launcher.remove(droplet, 'plant-tracker');
    await launcher.remove(droplet, 'plant-tracker');
    const path = `${HOME}/.config/systemd/user/${UNIT}`;
    expect(host.summary()).toEqual([
      `systemctl --user disable --now ${UNIT}`,
      `systemctl --user disable --now ${UNIT}`,
      'home',
      `remove ${path}`,
      'systemctl --user daemon-reload',
      `systemctl --user disable --now ${UNIT}`,
      `remove ${path}`,
      'systemctl --user daemon-reload',
    ]);
  });

  it('names the user journal when the unit did not come up', async () => {
    const failure = await launcherOn(new RecordingHost({ unitFails: true }), 'systemd-user', 300)
      .ensureRunning(droplet, 'plant-tracker')
      .catch((error: unknown) => error);
    expect((failure as StepError).code).toBe('DEPLOY_SUPERVISOR_FAILED');
    expect((failure as StepError).message).toContain(`journalctl --user -u ${UNIT}`);
  });
});
