/**
 * The droplet user on this host, for real: created with useradd when the executor runs
 * as root, the executor's own identity when it does not.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRunnerUser, RunnerUserError } from '../../src/deploy/runner-user.js';

/** Only this test makes it; it is removed again afterwards. */
const TEST_USER = 'executor-droplet-rtest';
const NOBODY = { uid: 65534, gid: 65534 };
const passwdEntry = (name: string) => readFileSync('/etc/passwd', 'utf8').split('\n').find((line) => line.startsWith(`${name}:`)) ?? null;
const removeTestUser = () => {
  if (passwdEntry(TEST_USER)) execFileSync('userdel', [TEST_USER]);
};

/** Calls ensureRunnerUser in a node process running as nobody; resolves with what it printed. */
function ensureAsNobody(name?: string): Promise<{ ok: boolean; value: unknown }> {
  const moduleUrl = new URL('../../src/deploy/runner-user.ts', import.meta.url).href;
  const script =
    `import { ensureRunnerUser } from ${JSON.stringify(moduleUrl)};\n` +
    `ensureRunnerUser(${name === undefined ? '' : JSON.stringify(name)}).then(` +
    '(value) => console.log(JSON.stringify({ ok: true, value })), (error) => console.log(JSON.stringify({ ok: false, value: error.message })));';
  const tsx = join(process.cwd(), 'node_modules/tsx/dist/esm/index.mjs');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
      ...NOBODY,
      env: { PATH: process.env.PATH, HOME: '/nonexistent', TSX_DISABLE_CACHE: '1' },
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim()) as { ok: boolean; value: unknown });
      } catch {
        reject(new Error(`no answer from the child: ${out} ${err}`));
      }
    });
  });
}

beforeAll(removeTestUser);
afterAll(removeTestUser);

describe('ensureRunnerUser as root', () => {
  it('creates a missing system user with no login shell and no home, with a group of its own', async () => {
    expect(process.getuid?.()).toBe(0);
    expect(passwdEntry(TEST_USER)).toBeNull();
    const runner = await ensureRunnerUser(TEST_USER);
    expect(runner.user).toBe(TEST_USER);
    expect(runner.uid).toBe(Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }).trim()));
    expect(runner.gid).toBe(Number(execFileSync('id', ['-g', TEST_USER], { encoding: 'utf8' }).trim()));
    expect(runner.uid).toBeGreaterThan(0);
    expect(runner.uid).toBeLessThan(1000); // a system user
    const [, , , , , home, shell] = passwdEntry(TEST_USER)!.split(':');
    expect(shell).toBe('/usr/sbin/nologin');
    expect(home).toBe('/nonexistent');
    expect(existsSync('/nonexistent')).toBe(false);
    expect(execFileSync('id', ['-gn', TEST_USER], { encoding: 'utf8' }).trim()).toBe(TEST_USER);
  });

  it('finds the same user again, also when asked twice at once, and creates nothing more', async () => {
    const first = await ensureRunnerUser(TEST_USER);
    const lines = readFileSync('/etc/passwd', 'utf8').split('\n').length;
    const [a, b] = await Promise.all([ensureRunnerUser(TEST_USER), ensureRunnerUser(TEST_USER)]);
    expect(a).toEqual(first);
    expect(b).toEqual(first);
    expect(readFileSync('/etc/passwd', 'utf8').split('\n').length).toBe(lines);
  });

  it('refuses root and names useradd would take for an option or reject', async () => {
    await expect(ensureRunnerUser('root')).rejects.toThrow(/uid 0 and gid 0: droplets never run as root/);
    for (const name of ['-o', 'Bad Name', '', 'a'.repeat(40), '../x']) {
      await expect(ensureRunnerUser(name)).rejects.toBeInstanceOf(RunnerUserError);
    }
    expect(passwdEntry('-o')).toBeNull();
  });
});

describe('ensureRunnerUser as another user', () => {
  it("returns the executor's own identity by default", async () => {
    expect(await ensureAsNobody()).toEqual({ ok: true, value: { user: 'nobody', uid: 65534, gid: 65534 } });
    expect(await ensureAsNobody('nobody')).toEqual({ ok: true, value: { user: 'nobody', uid: 65534, gid: 65534 } });
  });

  it('fails clearly for a named user it cannot create, or cannot run as', async () => {
    const missing = await ensureAsNobody('executor-droplet-missing');
    expect(missing.ok).toBe(false);
    expect(missing.value).toMatch(/executor-droplet-missing does not exist, and the executor runs as nobody \(uid 65534\), not root: it can neither create it/);
    const other = await ensureAsNobody('daemon');
    expect(other.ok).toBe(false);
    expect(other.value).toMatch(/runner user daemon exists, but the executor runs as nobody .* can not start processes as another user/);
    expect(passwdEntry('executor-droplet-missing')).toBeNull();
  });
});
