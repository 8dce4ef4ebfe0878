/**
 * What FleetHost refuses when it connects: droplets that would run as root (the runner
 * user is uid 0), and a systemd --user unit for a runner other than the deploying user
 * (the unit would run as the SSH user, not as the droplet's). A non-root deploying user
 * that hands directories to another runner does it through sudo. Over a recording
 * HostShell that answers as a host would: no host here has root logins or systemd.
 */
import { describe, expect, it } from 'vitest';
import { StepError } from '../../src/domain/errors.js';
import { FleetHost } from '../../src/deploy/fleet/fleet-host.js';
import type { SupervisionMode } from '../../src/deploy/fleet/launcher.js';
import type { ExecOptions, ExecResult, HostShell, HostUser } from '../../src/deploy/shell/types.js';

const HOME = '/home/deployer';
const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
const missing: ExecResult = { code: 1, stdout: '', stderr: '' };

interface HostSetup {
  /** The SSH user's uid (`id -u`). */
  deployerUid: number;
  runner: HostUser;
  systemd?: boolean;
}

/** A host that records every command; the supervisor program is already there, so nothing is uploaded. */
class RecordingHost implements HostShell {
  readonly label = 'deployer@host.test:22';
  readonly address = 'host.test';
  readonly calls: string[][] = [];

  constructor(private readonly setup: HostSetup) {}

  exec(argv: readonly string[], _options?: ExecOptions): Promise<ExecResult> {
    this.calls.push([...argv]);
    const [command, first, second] = argv;
    if (command === 'id' && first === '-u') return Promise.resolve(ok(`${this.setup.deployerUid}\n`));
    if (command === 'sh' && second === 'cd && pwd') return Promise.resolve(ok(`${HOME}\n`));
    if (command === 'test' && argv[2] === '/run/systemd/system') return Promise.resolve(this.setup.systemd ? ok() : missing);
    return Promise.resolve(ok());
  }

  upload(): Promise<void> {
    return Promise.reject(new Error('the supervisor is on the host already'));
  }

  runner(): Promise<HostUser> {
    return Promise.resolve(this.setup.runner);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function hostOn(shell: RecordingHost, supervision: SupervisionMode | 'auto'): FleetHost {
  return new FleetHost({
    shell,
    baseDir: 'droplets',
    nodePath: '/usr/bin/node',
    supervision,
    installer: { install: () => Promise.reject(new Error('no install in these tests')) },
    urlTemplate: 'http://{host}:{port}',
  });
}

async function refusal(promise: Promise<unknown>): Promise<StepError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StepError);
  return error as StepError;
}

const ROOT: HostUser = { user: 'root', uid: 0, gid: 0 };
const DROPLETS: HostUser = { user: 'droplets', uid: 1500, gid: 1500 };
const DEPLOYER: HostUser = { user: 'deployer', uid: 1000, gid: 1000 };

/** Anything that would start a supervisor or a unit: none of it may run on a refused host. */
const started = (shell: RecordingHost) => shell.calls.filter((argv) => argv[0] === '/usr/bin/node' || argv[0] === 'systemctl');

describe('FleetHost.connect refuses', () => {
  it('a runner that is root (DEPLOY_RUNNER_IS_ROOT), whoever deploys', async () => {
    for (const deployerUid of [0, 1000]) {
      const shell = new RecordingHost({ deployerUid, runner: ROOT });
      const host = hostOn(shell, 'process');
      const error = await refusal(host.connect());
      expect(error.code).toBe('DEPLOY_RUNNER_IS_ROOT');
      expect(error.message).toContain('DEPLOY_RUN_AS');
      expect(error.details).toMatchObject({ host: shell.label });
      await refusal(host.launcher());
      expect(started(shell)).toEqual([]);
    }
  });

  it('a systemd --user unit for a runner other than the deploying user (DEPLOY_RUNNER_UNSUPPORTED)', async () => {
    const shell = new RecordingHost({ deployerUid: 1000, runner: DROPLETS });
    const error = await refusal(hostOn(shell, 'systemd-user').connect());
    expect(error.code).toBe('DEPLOY_RUNNER_UNSUPPORTED');
    expect(error.message).toContain('droplets');
    expect(started(shell)).toEqual([]);
  });

  it('the same when `auto` finds systemd on the host and the deploying user is not root', async () => {
    const shell = new RecordingHost({ deployerUid: 1000, runner: DROPLETS, systemd: true });
    expect((await refusal(hostOn(shell, 'auto').connect())).code).toBe('DEPLOY_RUNNER_UNSUPPORTED');
  });
});

describe('FleetHost.connect accepts', () => {
  it('a systemd --user unit for the deploying user itself', async () => {
    const host = hostOn(new RecordingHost({ deployerUid: 1000, runner: DEPLOYER }), 'systemd-user');
    await host.connect();
    expect((await host.launcher()).describe('plant-tracker')).toMatch(/^systemd-user:/);
  });

  it('another runner under process supervision, handing it shared/data, run/, logs/ and .env through sudo when not root', async () => {
    const shell = new RecordingHost({ deployerUid: 1000, runner: DROPLETS });
    const host = hostOn(shell, 'process');
    await host.connect();
    const droplet = host.layout.droplet('plant-tracker');
    await host.prepareDroplet(droplet);
    await host.writeEnv(droplet, 'A=1\n');
    expect(shell.calls).toContainEqual(['sudo', '-n', 'chown', '1500:1500', droplet.dataDir, droplet.runDir, droplet.logsDir]);
    const write = shell.calls.find((argv) => argv[0] === 'sh' && argv[4] === droplet.envFile)!;
    expect(write.slice(5)).toEqual(['440', '1500', 'sudo -n']);
  });

  it('another runner when root deploys: chown without sudo', async () => {
    const shell = new RecordingHost({ deployerUid: 0, runner: DROPLETS });
    const host = hostOn(shell, 'process');
    await host.connect();
    const droplet = host.layout.droplet('plant-tracker');
    await host.prepareDroplet(droplet);
    expect(shell.calls).toContainEqual(['chown', '1500:1500', droplet.dataDir, droplet.runDir, droplet.logsDir]);
    expect(shell.calls.some((argv) => argv[0] === 'sudo')).toBe(false);
  });
});
