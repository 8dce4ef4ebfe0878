import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ProcessLedger } from '../../src/sandbox/process-ledger.js';
import { eventually, isAlive } from '../support/processes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

it('kills the groups a crashed executor left behind, grandchildren included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  dirs.push(dir);
  const child = spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const grandchild = Number(await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
  new ProcessLedger(dir).record(child.pid!);

  // A new executor start: a fresh ledger over the same directory.
  const reaped = new ProcessLedger(dir).reapLeftovers();
  expect(reaped).toEqual([child.pid]);
  expect(await eventually(() => !isAlive(grandchild))).toBe(true);
  expect(readdirSync(dir)).toEqual([]);
});

it('never kills a pid that now belongs to another process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  dirs.push(dir);
  const ledger = new ProcessLedger(dir);
  ledger.record(process.pid);
  // Pretend the recorded process had started at another time: the pid was recycled.
  const file = join(dir, String(process.pid));
  writeFileSync(file, '1');
  expect(ledger.reapLeftovers()).toEqual([]);
  expect(isAlive(process.pid)).toBe(true);
});

it('reaps what a group left behind after its leader exited', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
  dirs.push(dir);
  const child = spawn('sh', ['-c', 'sleep 300 & echo $!; sleep 0.5'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const ledger = new ProcessLedger(dir);
  ledger.record(child.pid!);
  const orphan = Number(await new Promise<string>((resolve) => child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
  await new Promise((resolve) => child.once('exit', resolve));
  expect(isAlive(orphan)).toBe(true);

  expect(new ProcessLedger(dir).reapLeftovers()).toEqual([child.pid]);
  expect(await eventually(() => !isAlive(orphan))).toBe(true);
});
