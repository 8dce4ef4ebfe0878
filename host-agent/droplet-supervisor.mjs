#!/usr/bin/env node
// @ts-check
/**
 * The droplet supervisor: one long-lived process per droplet on a host. It owns the
 * droplet's stable public port and reverse-proxies every request to the current backend
 * (the droplet's server on a private loopback port), restarts a crashed backend with
 * back-off, and switches releases without losing a request: start the candidate beside
 * the active one, health-gate it, route new requests to it, drain and stop the old one.
 *
 *   node droplet-supervisor.mjs run   <dropletDir>          the daemon (foreground)
 *   node droplet-supervisor.mjs start <dropletDir>          the daemon, detached; prints its status
 *   node droplet-supervisor.mjs ctl   <dropletDir> '<json>' one control request; prints the answer
 *
 * One file, Node built-ins only, on purpose: the executor uploads it alone to hosts that
 * have Node and nothing else. So it is sectioned instead of split into modules (the lead
 * accepted one file over the 300-line rule for that reason); each function stays small.
 * WebSocket (Upgrade) requests are out of scope: they are refused with 501.
 * The contracts (CLI, supervisor.json, control protocol) are in the issue-10 design.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync, closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync,
  readSync, realpathSync, renameSync, rmSync, statSync, truncateSync, writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_BODY_BYTES = 1024 * 1024;
const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
/** Connection failures before any response byte: the request is sent once more, to the then-active backend. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);
const RESET_BY_PEER = new Set(['ECONNRESET', 'EPIPE']);

// ─── Small utilities ────────────────────────────────────────────────────────────────

/** @param {string} message */
const log = (message) => void process.stdout.write(`${new Date().toISOString()} ${message}\n`);
/** Prints a command's one-line JSON answer; returns its exit code. @param {unknown} value @param {number} code */
function answerWith(value, code) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
  return code;
}
/** @param {number} ms @returns {Promise<void>} */
const delay = (ms) => new Promise((done) => setTimeout(done, ms));
/** Asks often while a process is likely about to answer (most start within a second), then every 100 ms. */
const pollInterval = (/** @type {number} */ since) => (Date.now() - since < 2_000 ? 20 : 100);
/** @param {unknown} err */
const errorCode = (err) => (err && typeof err === 'object' && 'code' in err ? String(err.code) : '');
/** @param {unknown} err */
const errorMessage = (err) => (err instanceof Error ? err.message : String(err));
/** @param {string} code @param {string} message */
const failure = (code, message) => ({ ok: false, error: { code, message } });

/**
 * The end of a file: at most `maxBytes` of it, and nothing before byte `from` (a positioned read:
 * a log may be large, only its end is ever read). null when unreadable.
 * @param {string} file @param {number} maxBytes @param {number} from
 */
function readTail(file, maxBytes, from = 0) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const start = Math.max(size - maxBytes, from <= size ? from : 0); // a log truncated since `from` was taken: its start
    const buffer = Buffer.alloc(size - start);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, start));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The last `lines` lines of a log file (reading only its last 16 KiB); '' when unreadable. */
function logTail(/** @type {string} */ file, lines = 40) {
  const tail = readTail(file, 16 * 1024)?.toString('utf8') ?? '';
  return tail.replace(/\n$/, '').split('\n').slice(-lines).join('\n');
}

/**
 * The droplet's files. `address` is the control socket relative to the droplet dir, which is every
 * command's working directory: a unix socket address is limited to 107 bytes, a deploy base path is not.
 * @param {string} dropletDir
 */
function pathsOf(dropletDir) {
  const run = join(dropletDir, 'run');
  const logs = join(dropletDir, 'logs');
  return {
    run, logs, socket: join(run, 'supervisor.sock'), address: join('run', 'supervisor.sock'), pid: join(run, 'supervisor.pid'),
    backends: join(run, 'backends.json'), supervisorLog: join(logs, 'supervisor.log'),
  };
}

// ─── supervisor.json and the backend's environment ─────────────────────────────────

/**
 * `entries`: each release's entry point, relative to the release (`{entry}` in argv; checked at its start).
 * `logMaxBytes`: a release log larger than this is rotated (see rotateLog); `logCheckMs`: how often running ones are checked.
 * @typedef {{ argv: string[], cwd: string, envFile: string | null, env: Record<string, string>, entries: Record<string, string> }} Launch
 * @typedef {{ version: 1, droplet: string, listen: { host: string, port: number }, launch: Launch,
 *   health: { path: string, timeoutMs: number }, restart: { initialDelayMs: number, maxDelayMs: number, resetAfterMs: number },
 *   stopGraceMs: number, drainTimeoutMs: number, holdRequestsMs: number, logMaxBytes: number, logCheckMs: number }} Config
 */

/** @param {boolean} ok @param {string} what @returns {asserts ok} */
function need(ok, what) {
  if (!ok) throw new Error(`supervisor.json: ${what}`);
}

/**
 * @template {string} Name
 * @param {any} section @param {Record<Name, number>} defaults each a non-negative number (milliseconds, bytes) @returns {Record<Name, number>}
 */
function nonNegative(section, defaults) {
  const out = /** @type {Record<Name, number>} */ ({});
  for (const [name, fallback] of Object.entries(defaults)) {
    const value = section?.[name] ?? fallback;
    need(typeof value === 'number' && Number.isFinite(value) && value >= 0, `${name} must be a non-negative number`);
    out[/** @type {Name} */ (name)] = value;
  }
  return out;
}

/** @param {any} raw @returns {Launch} */
function launchOf(raw) {
  const strings = (/** @type {unknown[]} */ list) => list.every((item) => typeof item === 'string');
  need(Array.isArray(raw?.argv) && raw.argv.length > 0 && strings(raw.argv), 'launch.argv must be a non-empty array of strings');
  need(raw.cwd === undefined || typeof raw.cwd === 'string', 'launch.cwd must be a string');
  need(raw.envFile === undefined || raw.envFile === null || typeof raw.envFile === 'string', 'launch.envFile must be a string');
  const map = (/** @type {unknown} */ value) => value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value) && strings(Object.values(value)));
  need(map(raw.env), 'launch.env must map names to strings');
  need(map(raw.entries), 'launch.entries must map release ids to entry paths');
  return { argv: raw.argv, cwd: raw.cwd ?? '{release}', envFile: raw.envFile ?? null, env: raw.env ?? {}, entries: raw.entries ?? {} };
}

/** Read at start and before every backend start (see refreshConfig). @param {string} dropletDir @returns {Config} */
function loadConfig(dropletDir) {
  /** @type {any} */
  const raw = JSON.parse(readFileSync(join(dropletDir, 'supervisor.json'), 'utf8'));
  need(raw?.version === 1, 'version must be 1');
  const { host = '127.0.0.1', port } = raw.listen ?? {};
  need(typeof host === 'string' && Number.isInteger(port) && port > 0 && port < 65536, 'listen must be {host, port}');
  const path = raw.health?.path ?? '/health';
  need(typeof path === 'string' && path.startsWith('/'), 'health.path must be a path');
  const { timeoutMs } = nonNegative(raw.health, { timeoutMs: 20_000 });
  const restart = nonNegative(raw.restart, { initialDelayMs: 200, maxDelayMs: 10_000, resetAfterMs: 30_000 });
  const times = nonNegative(raw, { stopGraceMs: 5_000, drainTimeoutMs: 10_000, holdRequestsMs: 10_000, logMaxBytes: 10 * 1024 * 1024, logCheckMs: 2_000 });
  need(times.logMaxBytes >= 1 && times.logCheckMs >= 10, 'logMaxBytes and logCheckMs must be positive (logCheckMs at least 10)');
  return /** @type {Config} */ ({
    version: 1, droplet: String(raw.droplet ?? basename(dropletDir)), listen: { host, port }, launch: launchOf(raw.launch),
    health: { path, timeoutMs }, restart, ...times,
  });
}

/** KEY=value lines taken literally (no quotes removed, no expansion); `#` comments and blank lines skipped. */
function parseEnvFile(/** @type {string} */ file) {
  /** @type {Record<string, string>} */
  const env = {};
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return env; // no .env yet: an empty environment, not a crash loop
    throw err;
  }
  for (const line of text.split('\n').map((raw) => raw.replace(/\r$/, ''))) {
    if (line.trimStart().startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq).trim() : '';
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) env[key] = line.slice(eq + 1);
  }
  return env;
}

/** The backend's whole environment: nothing of the supervisor's own leaks in. */
function backendEnv(/** @type {Launch} */ launch, /** @type {(s: string) => string} */ fill, /** @type {number} */ port) {
  const env = launch.envFile ? parseEnvFile(launch.envFile) : {};
  for (const [key, value] of Object.entries(launch.env)) env[key] = fill(value);
  return { ...env, SERVICE_PORT: String(port), HOST: '127.0.0.1' };
}

// ─── Process groups, /proc, and what a SIGKILLed supervisor left behind ────────────

/** Process group and start time in clock ticks (fields 5 and 22 of /proc/<pid>/stat), or null when gone. */
function procStat(/** @type {number | string} */ pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pgrp: Number(fields[2]), startTicks: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/** @template T @param {string} path @param {(p: string) => T} read @returns {T | null} null when it throws */
function readOrNull(path, read) {
  try {
    return read(path);
  } catch {
    return null;
  }
}

/** @param {string} path */
const realpath = (path) => realpathSync(path);

/** @typedef {{ pgid: number, release: string, cwd: string, startTicks: string }} BackendRecord */

/** Whether a recorded group is still the one we started: same start time and cwd, so a recycled pid is never killed. */
function stillOurs(/** @type {BackendRecord} */ record) {
  const leader = procStat(record.pgid);
  if (leader) {
    const cwd = readOrNull(`/proc/${record.pgid}/cwd`, (p) => readlinkSync(p))?.replace(/ \(deleted\)$/, '') ?? null;
    return leader.startTicks === record.startTicks && (cwd === null || cwd === record.cwd);
  }
  // The leader exited: members it left in its group that started no earlier than it did.
  return readdirSync('/proc').some((entry) => {
    const member = /^\d+$/.test(entry) ? procStat(entry) : null;
    return member !== null && member.pgrp === record.pgid && Number(member.startTicks) >= Number(record.startTicks);
  });
}

/** Kills the backend groups recorded in backends.json by a previous supervisor that was SIGKILLed. */
function killLeftovers(/** @type {string} */ file) {
  const records = readOrNull(file, (p) => JSON.parse(readFileSync(p, 'utf8'))); // none, or unreadable: nothing to kill
  for (const record of Array.isArray(records) ? records : []) {
    if (!Number.isInteger(record?.pgid) || record.pgid <= 1 || !stillOurs(record)) continue;
    signalGroup(record.pgid, 'SIGKILL');
    log(`killed leftover backend ${record.release} (process group ${record.pgid})`);
  }
}

/** @param {number} pgid @param {NodeJS.Signals} signal */
function signalGroup(pgid, signal) {
  try {
    if (pgid > 1) process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** A loopback port free now (it may be taken before the backend binds: that start is retried once). @returns {Promise<number>} */
function freePort() {
  return new Promise((done, fail) => {
    const probe = net.createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

// ─── Who listens on a backend's port ───────────────────────────────────────────────
// Every droplet on a host shares one network namespace, so another droplet could bind the port picked
// for a backend before it does and answer its health check: the gate and promote also make sure the
// listener is a socket of the backend's own process group.

/**
 * Local addresses whose listener takes connections to 127.0.0.1 (and ::1), as /proc/net/tcp{,6} print
 * them (32-bit words in host byte order: both orders listed): 127.0.0.1, 0.0.0.0, ::, ::1, ::ffff:127.0.0.1, ::ffff:0.0.0.0.
 */
const LOCAL_LISTEN_ADDRESSES = new Set([
  '0100007F', '7F000001', '00000000', '0'.repeat(32), `${'0'.repeat(24)}01000000`, `${'0'.repeat(31)}1`,
  '0000000000000000FFFF00000100007F', '00000000000000000000FFFF7F000001', '0000000000000000FFFF000000000000', '00000000000000000000FFFF00000000',
]);

/** Inodes of the sockets listening on `port` (state 0A) at those addresses; null when /proc/net cannot be read. */
function listenerInodes(/** @type {number} */ port) {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].map((file) => readOrNull(file, (p) => readFileSync(p, 'utf8')));
  if (tables.every((table) => table === null)) return null;
  const inodes = new Set();
  for (const line of tables.flatMap((table) => (table ?? '').split('\n').slice(1))) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    const [, local = '', , state, , , , , , inode = '0'] = line.trim().split(/\s+/);
    const [address = '', portHex = ''] = local.split(':');
    if (state === '0A' && Number.parseInt(portHex, 16) === port && LOCAL_LISTEN_ADDRESSES.has(address) && inode !== '0') inodes.add(inode);
  }
  return inodes;
}

/** Inodes of every socket a process of group `pgid` holds (field 5 of /proc/<pid>/stat, fds read as socket:[inode]). */
function groupSocketInodes(/** @type {number} */ pgid) {
  const inodes = new Set();
  for (const pid of readOrNull('/proc', (p) => readdirSync(p)) ?? []) {
    if (!/^\d+$/.test(pid) || procStat(pid)?.pgrp !== pgid) continue;
    for (const fd of readOrNull(`/proc/${pid}/fd`, (p) => readdirSync(p)) ?? []) {
      const socket = /^socket:\[(\d+)\]$/.exec(readOrNull(`/proc/${pid}/fd/${fd}`, (p) => readlinkSync(p)) ?? '');
      if (socket?.[1]) inodes.add(socket[1]);
    }
  }
  return inodes;
}

/**
 * Whether the backend's port is served by the backend: 'ours' when it listens there and nobody else does,
 * 'foreign' when someone else (or nobody) does, 'unknown' without /proc (not checkable: the gate alone decides).
 * @param {{ pid: number, port: number }} backend @returns {'ours' | 'foreign' | 'unknown'}
 */
function portOwner(backend) {
  const listeners = listenerInodes(backend.port);
  if (listeners === null) return 'unknown';
  const ours = groupSocketInodes(backend.pid);
  return listeners.size > 0 && [...listeners].every((inode) => ours.has(inode)) ? 'ours' : 'foreign';
}

// ─── Backends ──────────────────────────────────────────────────────────────────────

/**
 * One backend process: a release's server on a private loopback port, leading its own process group.
 * `restarts`: crash restarts of the active release before it; `inFlight`: requests forwarded and not yet
 * answered (`onIdle` is called when that drops to 0 while draining); `logOffset`: its log's size at spawn.
 * @typedef {{ release: string, pid: number, port: number, startedAt: string, restarts: number, healthy: boolean,
 *   healthySince: number, inFlight: number, onIdle: (() => void) | null, agent: http.Agent, exited: boolean,
 *   exitReason: string, exit: Promise<void>, logFile: string, logOffset: number, record: BackendRecord }} Backend
 * @typedef {{ dropletDir: string, config: Config, onSpawn: (b: Backend) => void, onExit: (b: Backend) => void }} BackendHost
 */

/** @param {Backend} b what the control protocol shows of a backend */
const publicBackend = (b) => ({ release: b.release, pid: b.pid, port: b.port, startedAt: b.startedAt, restarts: b.restarts, healthy: b.healthy && !b.exited });

class NoRelease extends Error {}
class BadEntry extends Error {}

/** A release's entry point when launch.entries does not name one. */
const DEFAULT_ENTRY = 'src/server.js';

/** launch.entries[release]: a plain path inside the release (not absolute, no `..`, no NUL, no placeholder braces). */
function entryOf(/** @type {Launch} */ launch, /** @type {string} */ release) {
  const entry = Object.hasOwn(launch.entries, release) ? String(launch.entries[release]) : DEFAULT_ENTRY;
  if (entry === '' || isAbsolute(entry) || entry.split('/').includes('..') || /[\0{}]/.test(entry)) {
    throw new BadEntry(`release ${release}: entry point ${JSON.stringify(entry)} refused: it must be a relative path inside the release (no "..", NUL or braces)`);
  }
  return entry;
}

/**
 * Placeholders replaced in one pass, so that a value put in is never read again as a placeholder.
 * @param {Record<'release' | 'port' | 'entry', string>} values @returns {(s: string) => string}
 */
const placeholders = (values) => (s) => s.replace(/\{(release|port|entry)\}/g, (_, /** @type {'release' | 'port' | 'entry'} */ name) => values[name]);

/**
 * Caps a release log (a droplet must not fill the disk): once over maxBytes, its last maxBytes become
 * `<log>.1` (the one older file kept) and it is truncated in place. Copy-truncate, not rename: a running
 * backend's fd is O_APPEND, so it goes on writing at the new end of the same file.
 */
function rotateLog(/** @type {string} */ file, /** @type {number} */ maxBytes) {
  const size = readOrNull(file, (p) => statSync(p).size);
  if (size === null || size <= maxBytes) return;
  try {
    writeFileSync(`${file}.1.tmp`, readTail(file, maxBytes) ?? '', { mode: 0o600 });
    renameSync(`${file}.1.tmp`, `${file}.1`);
  } catch (err) {
    log(`could not keep the end of ${file} in ${file}.1: ${errorMessage(err)}`); // a full disk: the truncation matters more
  }
  try {
    truncateSync(file, 0);
    log(`rotated ${file} at ${size} bytes`);
  } catch (err) {
    log(`could not truncate ${file}: ${errorMessage(err)}`);
  }
}

/** The release's real directory (resolved, never through `current`). */
function releaseDir(/** @type {string} */ dropletDir, /** @type {string} */ release) {
  const dir = RELEASE_ID.test(release) ? readOrNull(join(dropletDir, 'releases', release), realpath) : null;
  if (dir && statSync(dir).isDirectory()) return dir;
  throw new NoRelease(`release ${release} is not on this host (${join(dropletDir, 'releases')})`);
}

/** The release `current` points to, or null. */
function currentRelease(/** @type {string} */ dropletDir) {
  const target = readOrNull(join(dropletDir, 'current'), realpath);
  return target && dirname(target) === readOrNull(join(dropletDir, 'releases'), realpath) ? basename(target) : null;
}

/** Spawns a release detached (own process group), stdout and stderr appended to logs/<release>.log (rotated first when over the cap). */
async function spawnBackend(/** @type {BackendHost} */ host, /** @type {string} */ release, /** @type {number} */ restarts) {
  const dir = releaseDir(host.dropletDir, release);
  const { launch } = host.config;
  const entry = entryOf(launch, release);
  const port = await freePort();
  const fill = placeholders({ release: dir, port: String(port), entry });
  const [command = '', ...args] = launch.argv.map(fill);
  const cwd = fill(launch.cwd);
  const logFile = join(host.dropletDir, 'logs', `${release}.log`);
  rotateLog(logFile, host.config.logMaxBytes);
  const fd = openSync(logFile, 'a', 0o600);
  const logOffset = fstatSync(fd).size;
  let child;
  try {
    child = spawn(command, args, { cwd, env: backendEnv(launch, fill, port), detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid ?? 0;
  /** @type {Backend} */
  const backend = {
    release, pid, port, startedAt: new Date().toISOString(), restarts, healthy: false, healthySince: 0, inFlight: 0,
    onIdle: null, agent: new http.Agent({ keepAlive: true, timeout: 4_000 }), exited: false, exitReason: '',
    exit: Promise.resolve(), logFile, logOffset,
    record: { pgid: pid, release, cwd: readOrNull(cwd, realpath) ?? cwd, startTicks: procStat(pid)?.startTicks ?? '' },
  };
  backend.exit = watchExit(child, backend, host.onExit);
  if (pid) host.onSpawn(backend);
  return backend;
}

/** @param {import('node:child_process').ChildProcess} child @param {Backend} backend @param {(b: Backend) => void} onExit @returns {Promise<void>} */
function watchExit(child, backend, onExit) {
  return new Promise((done) => {
    const exited = (/** @type {string} */ reason) => {
      if (backend.exited) return;
      Object.assign(backend, { exited: true, exitReason: reason });
      backend.agent.destroy();
      done();
      onExit(backend);
    };
    child.once('exit', (code, signal) => exited(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    // Without a pid it never ran (ENOENT, EACCES); a later 'error' is a failed kill(), not an exit.
    child.on('error', (err) => (child.pid === undefined ? exited(`could not start: ${err.message}`) : undefined));
  });
}

/** One probe: 200 with JSON {"status":"healthy"}; anything else (refused, timeout, other body) is not healthy. */
function probeHealth(/** @type {number} */ port, /** @type {string} */ path, /** @type {number} */ timeoutMs) {
  return new Promise((done) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body.length > 64 * 1024 ? request.destroy() : (body += chunk)));
      response.on('end', () => done(response.statusCode === 200 && readOrNull(body, JSON.parse)?.status === 'healthy'));
      response.on('error', () => done(false));
      response.on('close', () => done(false));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => done(false));
  });
}

/**
 * Polls the health path every ~100 ms until healthy or the deadline; a process that exits fails at once.
 * The healthy answer counts only if it came from the backend's own listener (see portOwner): else NOT_OURS.
 * @param {Backend} backend @param {Config['health']} health
 * @returns {Promise<{ ok: true } | { ok: false, code: 'HEALTH_GATE_FAILED' | 'EXITED' | 'NOT_OURS', message: string }>}
 */
async function healthGate(backend, health) {
  const started = Date.now();
  const deadline = started + health.timeoutMs;
  while (!backend.exited) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const message = `release ${backend.release} did not answer ${health.path} healthy within ${health.timeoutMs} ms`;
      return { ok: false, code: 'HEALTH_GATE_FAILED', message };
    }
    if ((await probeHealth(backend.port, health.path, Math.min(2_000, remaining))) && !backend.exited) return ownGate(backend);
    await Promise.race([delay(Math.min(pollInterval(started), Math.max(0, deadline - Date.now()))), backend.exit]);
  }
  return { ok: false, code: 'EXITED', message: `release ${backend.release} ${backend.exitReason} before it was healthy` };
}

/** A healthy answer on the backend's port: passes when the listener there is the backend's. @param {Backend} backend */
function ownGate(backend) {
  if (portOwner(backend) !== 'foreign') return /** @type {const} */ ({ ok: true });
  const message = `release ${backend.release} did not pass its health gate: the listener on its port ${backend.port} is not its own process's`;
  return /** @type {const} */ ({ ok: false, code: 'NOT_OURS', message });
}

/** Whether the backend died because its port was taken between freePort() and its own bind (the end of its own output only). */
function lostPortRace(/** @type {Backend} */ backend) {
  return readTail(backend.logFile, 16 * 1024, backend.logOffset)?.toString('utf8').includes('EADDRINUSE') ?? false;
}

/** Closes its keep-alive sockets, group SIGTERM, group SIGKILL after graceMs; then sweeps what the leader left in its group. */
async function stopBackend(/** @type {Backend} */ backend, /** @type {number} */ graceMs) {
  backend.agent.destroy();
  if (!backend.exited) {
    signalGroup(backend.pid, 'SIGTERM');
    if (!(await Promise.race([backend.exit.then(() => true), delay(graceMs).then(() => false)]))) signalGroup(backend.pid, 'SIGKILL');
    await backend.exit;
  }
  signalGroup(backend.pid, 'SIGKILL');
}

/** Resolves once the backend has no request in flight, after timeoutMs at most, or when it exits. */
function drain(/** @type {Backend} */ backend, /** @type {number} */ timeoutMs) {
  if (backend.inFlight === 0 || backend.exited) return Promise.resolve();
  return new Promise((done) => {
    const finish = () => {
      clearTimeout(timer);
      backend.onIdle = null;
      done(undefined);
    };
    const timer = setTimeout(finish, timeoutMs);
    backend.onIdle = finish;
    void backend.exit.then(finish);
  });
}

// ─── The supervisor: the active and candidate backends, switches, crash restarts ───

/** @typedef {{ ok: true, backend: Backend } | { ok: false, error: { code: string, message: string, log: string } }} Started */

class Supervisor {
  /** @param {string} dropletDir @param {Config} config */
  constructor(dropletDir, config) {
    this.dropletDir = dropletDir;
    this.config = config;
    /** @type {Set<Backend>} every live backend process, as recorded in backends.json */
    this.live = new Set();
    /** @type {string | null} the release that should be serving */
    this.activeRelease = null;
    /** @type {Backend | null} its process; it takes requests only while healthy */
    this.active = null;
    /** @type {Backend | null} */
    this.candidate = null;
    this.stopping = false;
    /** Bumped when the active release changes hands or the supervisor stops: a pending restart loop then quits. */
    this.generation = 0;
    this.nextDelayMs = config.restart.initialDelayMs;
    /** @type {Set<() => void>} requests held until a backend is ready */
    this.waiters = new Set();
    /** @type {Promise<unknown>} commands that change backends run one at a time */
    this.queue = Promise.resolve();
    this.onSpawn = (/** @type {Backend} */ b) => {
      this.live.add(b);
      this.writeRecords();
    };
    this.onExit = (/** @type {Backend} */ b) => this.backendExited(b);
    /** @type {NodeJS.Timeout | undefined} the next log size check */
    this.logTimer = undefined;
  }

  writeRecords() {
    const file = pathsOf(this.dropletDir).backends;
    writeFileSync(`${file}.tmp`, `${JSON.stringify([...this.live].map((b) => b.record))}\n`, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }

  get state() {
    if (this.stopping) return 'stopping';
    if (this.activeRelease === null) return 'idle';
    return this.ready() ? 'running' : 'restarting';
  }

  /** The backend that takes requests now, if any. */
  ready() {
    const active = this.active;
    return active && active.healthy && !active.exited ? active : null;
  }

  status() {
    const { active, candidate } = this;
    return {
      ok: true, pid: process.pid, listen: this.config.listen, state: this.state,
      active: active && publicBackend(active), candidate: candidate && publicBackend(candidate),
    };
  }

  /** @template T @param {() => Promise<T>} command @returns {Promise<T>} */
  serial(command) {
    const run = this.queue.then(command, command);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The ready backend; while one is on its way (restart, first start, a candidate) waits up to holdMs. null → 503. */
  waitForReady(/** @type {number} */ holdMs) {
    const ready = this.ready();
    if (ready || this.stopping || (this.activeRelease === null && this.candidate === null)) return Promise.resolve(ready);
    return new Promise((done) => {
      const settle = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        done(this.ready());
      };
      const waiter = () => (this.ready() || this.stopping ? settle() : undefined);
      const timer = setTimeout(settle, holdMs);
      this.waiters.add(waiter);
    });
  }

  wake() {
    for (const waiter of [...this.waiters]) waiter();
  }

  /**
   * Spawns `release` and health-gates it; on failure it is stopped and its log tail returned.
   * @param {string} release @param {number} restarts @param {(b: Backend) => void} place where the caller keeps it while gated
   * @returns {Promise<Started>}
   */
  async startGated(release, restarts, place) {
    this.refreshConfig();
    for (let attempt = 0; ; attempt += 1) {
      let backend;
      try {
        backend = await spawnBackend(this, release, restarts);
      } catch (err) {
        const code = err instanceof NoRelease ? 'NO_RELEASE' : err instanceof BadEntry ? 'BAD_ENTRY' : 'EXITED';
        log(`release ${release} could not be started (${code}): ${errorMessage(err)}`);
        return { ok: false, error: { code, message: errorMessage(err), log: logTail(join(this.dropletDir, 'logs', `${release}.log`)) } };
      }
      place(backend);
      const gate = await healthGate(backend, this.config.health);
      if (gate.ok) return { ok: true, backend: Object.assign(backend, { healthy: true, healthySince: Date.now() }) };
      await stopBackend(backend, this.config.stopGraceMs);
      if (gate.code === 'NOT_OURS') log(gate.message);
      // Its port taken by another process (by chance or not): once more on another port.
      const retry = attempt === 0 && ((gate.code === 'EXITED' && lostPortRace(backend)) || gate.code === 'NOT_OURS');
      const code = gate.code === 'NOT_OURS' ? 'HEALTH_GATE_FAILED' : gate.code;
      if (!retry) return { ok: false, error: { code, message: gate.message, log: logTail(backend.logFile) } };
    }
  }

  /**
   * Re-reads supervisor.json before each start: the executor rewrites it per deploy (the
   * entry point, the timeouts). The public address is bound once and kept.
   */
  refreshConfig() {
    try {
      const { listen: _kept, ...fresh } = loadConfig(this.dropletDir);
      Object.assign(this.config, fresh);
    } catch (err) {
      log(`supervisor.json unreadable, keeping the settings in force: ${errorMessage(err)}`);
    }
  }

  /** At start: the release `current` points to, if any. */
  startCurrent() {
    this.activeRelease = currentRelease(this.dropletDir);
    if (this.activeRelease === null) return log('no current release: idle');
    void this.keepActive(this.activeRelease, this.generation, 0, 0);
  }

  /** Starts the active release until it is healthy, with back-off between attempts, unless superseded meanwhile. */
  async keepActive(/** @type {string} */ release, /** @type {number} */ generation, /** @type {number} */ waitMs, /** @type {number} */ restarts) {
    const superseded = () => generation !== this.generation || this.stopping;
    for (let attempt = restarts; ; attempt += 1) {
      await delay(attempt === restarts ? waitMs : this.takeDelay());
      if (superseded()) return;
      const started = await this.startGated(release, attempt, (b) => (superseded() ? undefined : (this.active = b)));
      if (superseded()) return started.ok ? stopBackend(started.backend, this.config.stopGraceMs) : undefined;
      if (started.ok) {
        log(`release ${release} is serving (pid ${started.backend.pid}, port ${started.backend.port})`);
        return this.wake();
      }
      log(`release ${release} failed to start: ${started.error.message}`);
    }
  }

  /** The next back-off delay: initialDelayMs doubling up to maxDelayMs. */
  takeDelay() {
    const wait = this.nextDelayMs;
    this.nextDelayMs = Math.min(Math.max(wait * 2, 1), this.config.restart.maxDelayMs);
    return wait;
  }

  /** @param {Backend} backend */
  backendExited(backend) {
    this.live.delete(backend);
    this.writeRecords();
    log(`release ${backend.release} (pid ${backend.pid}) ${backend.exitReason}`);
    if (backend === this.candidate && backend.healthy) this.candidate = null; // during its gate, the gate reports it
    const crashed = backend === this.active && backend.healthy && !this.stopping;
    backend.healthy = false;
    if (!crashed) return;
    if (Date.now() - backend.healthySince >= this.config.restart.resetAfterMs) this.nextDelayMs = this.config.restart.initialDelayMs;
    void this.keepActive(backend.release, this.generation, this.takeDelay(), backend.restarts + 1);
  }

  /** Starts `release` as the candidate (replacing another) and health-gates it. The active backend is untouched. */
  async prepare(/** @type {string} */ release) {
    const ready = this.ready();
    if (ready?.release === release) return { ok: true, alreadyActive: true, active: publicBackend(ready) };
    const existing = this.candidate;
    if (existing?.release === release && existing.healthy && !existing.exited) return { ok: true, candidate: publicBackend(existing) };
    if (existing) await this.discard(existing.release);
    const started = await this.startGated(release, 0, (b) => (this.candidate = b));
    if (!started.ok) return this.dropCandidate(started.error);
    log(`candidate ${release} is healthy (pid ${started.backend.pid}, port ${started.backend.port})`);
    return { ok: true, candidate: publicBackend(started.backend) };
  }

  /** The candidate takes every new request at once; the old backend is drained, then stopped. */
  async promote(/** @type {string} */ release) {
    const candidate = this.candidate;
    if (candidate?.release !== release || !candidate.healthy || candidate.exited) return failure('NO_CANDIDATE', `no healthy candidate ${release} to promote`);
    if (portOwner(candidate) === 'foreign') {
      // It was gated on its own listener; now another process holds its port: it takes no traffic.
      const message = `candidate ${release} no longer serves its own port ${candidate.port}: not promoted, stopped`;
      log(message);
      await this.discard(release);
      return failure('PORT_NOT_OWNED', message);
    }
    const old = this.active;
    Object.assign(this, { candidate: null, active: candidate, activeRelease: release, nextDelayMs: this.config.restart.initialDelayMs });
    this.generation += 1;
    this.wake();
    log(`promoted ${release} (pid ${candidate.pid}, port ${candidate.port})`);
    if (!old || old === candidate) return { ok: true, active: publicBackend(candidate), stopped: null };
    await drain(old, this.config.drainTimeoutMs);
    await stopBackend(old, this.config.stopGraceMs);
    return { ok: true, active: publicBackend(candidate), stopped: { release: old.release, pid: old.pid } };
  }

  /** A candidate that failed its gate (already stopped) is forgotten; the failure is the answer. @param {object} error */
  dropCandidate(error) {
    this.candidate = null;
    return { ok: false, error };
  }

  async discard(/** @type {string} */ release) {
    const candidate = this.candidate;
    if (candidate?.release === release) {
      this.candidate = null;
      await stopBackend(candidate, this.config.stopGraceMs);
    }
    return { ok: true };
  }

  /** Rolling restart: a candidate of the active release, gated, then promoted. */
  async restart() {
    const release = this.activeRelease;
    if (release === null) return failure('NO_ACTIVE', 'no active release to restart');
    if (this.candidate) await this.discard(this.candidate.release);
    const started = await this.startGated(release, 0, (b) => (this.candidate = b));
    if (!started.ok) return this.dropCandidate(started.error);
    return this.promote(release);
  }

  /** Checks the running backends' logs every logCheckMs and rotates those over the cap (see rotateLog). */
  watchLogs() {
    const check = () => {
      for (const file of new Set([...this.live].map((b) => b.logFile))) rotateLog(file, this.config.logMaxBytes);
      this.logTimer = setTimeout(check, this.config.logCheckMs).unref();
    };
    this.logTimer = setTimeout(check, this.config.logCheckMs).unref();
  }

  /** Stops every backend; held requests get 503. */
  async shutdown() {
    clearTimeout(this.logTimer);
    this.stopping = true;
    this.generation += 1;
    this.wake();
    await Promise.all([...this.live].map((b) => stopBackend(b, this.config.stopGraceMs)));
  }
}

// ─── The proxy ─────────────────────────────────────────────────────────────────────

/** @param {http.ServerResponse} res @param {number} status @param {string} code @param {string} message */
function sendError(res, status, code, message) {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ error: { code, message, details: {} } });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Hop-by-hop header names: the fixed ones and those a Connection header lists. @param {string | string[] | undefined} connection */
function hopByHop(connection) {
  const named = [connection ?? ''].flat().flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase());
  return new Set([...HOP_BY_HOP, ...named]);
}

/** @param {http.IncomingMessage} req @param {Buffer} body @returns {http.OutgoingHttpHeaders} */
function forwardHeaders(req, body) {
  const dropped = hopByHop(req.headers.connection).add('expect'); // a 100-continue was answered here already
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !dropped.has(name)));
  // The body was buffered: it goes on with its length, never chunked.
  if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) headers['content-length'] = String(body.length);
  const client = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  const forwarded = { 'x-forwarded-for': prior ? `${prior}, ${client}` : client, 'x-forwarded-proto': 'http' };
  return { ...headers, ...forwarded, ...(req.headers.host ? { 'x-forwarded-host': req.headers.host } : {}) };
}

/** The backend's raw response headers minus hop-by-hop ones, as a flat [name, value, …] list (repeats kept). */
function responseHeaders(/** @type {string[]} */ raw) {
  const pairs = raw.flatMap((name, i) => (i % 2 === 0 ? [[name, raw[i + 1] ?? '']] : []));
  const dropped = hopByHop(pairs.filter(([name]) => name?.toLowerCase() === 'connection').map(([, value]) => value ?? ''));
  return pairs.filter(([name]) => !dropped.has(name?.toLowerCase() ?? '')).flat();
}

/**
 * One client request crossing the proxy.
 * @typedef {{ req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, clientGone: boolean, upstream: http.ClientRequest | null }} Exchange
 */

/**
 * Buffers the body (≤ 1 MiB, so that the request can be sent again), then dispatches it.
 * @param {Supervisor} sup @param {http.IncomingMessage} req @param {http.ServerResponse} res
 */
function handleRequest(sup, req, res) {
  req.on('error', () => undefined);
  res.on('error', () => undefined);
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return refuseLarge(res);
  /** @type {Exchange} */
  const exchange = { req, res, body: Buffer.alloc(0), clientGone: false, upstream: null };
  // A client that goes away mid-request: forget it and abort what was sent on its behalf.
  res.on('close', () => {
    if (res.writableFinished) return;
    exchange.clientGone = true;
    exchange.upstream?.destroy();
  });
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  req.on('data', (/** @type {Buffer} */ chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    else if (!res.headersSent) refuseLarge(res);
  });
  req.on('end', () => {
    if (size > MAX_BODY_BYTES || exchange.clientGone) return;
    exchange.body = Buffer.concat(chunks);
    void dispatch(sup, exchange, 0, null);
  });
}

/** @param {http.ServerResponse} res */
function refuseLarge(res) {
  res.shouldKeepAlive = false;
  sendError(res, 413, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
}

/**
 * Sends the exchange to the backend ready now (held while none is), and once more after a
 * connection failure before any response byte (a crash or a switch in between).
 * @param {Supervisor} sup @param {Exchange} exchange @param {number} attempt @param {Backend | null} failed
 */
async function dispatch(sup, exchange, attempt, failed) {
  const hold = sup.config.holdRequestsMs;
  let backend = await sup.waitForReady(hold);
  if (backend && backend === failed) {
    // It failed us, and may be dying with its exit not yet seen: give that a moment before choosing again. (A kept-alive
    // socket it had just closed costs this wait too; the agent drops idle sockets after 4 s, before Node's 5 s default.)
    await Promise.race([backend.exit, delay(250)]);
    backend = await sup.waitForReady(hold);
  }
  if (exchange.clientGone) return;
  if (!backend) return sendError(exchange.res, 503, 'UNAVAILABLE', `droplet ${sup.config.droplet} has no backend ready to answer`);
  const target = backend;
  forward(target, exchange, (err) => {
    if (attempt === 0 && RETRYABLE.has(errorCode(err))) return void dispatch(sup, exchange, 1, target);
    sendError(exchange.res, 502, 'BAD_GATEWAY', `droplet ${sup.config.droplet} did not answer: ${errorCode(err) || errorMessage(err)}`);
  });
}

/** @param {Backend} backend @param {Exchange} exchange @param {(err: Error) => void} failedBeforeResponse */
function forward(backend, exchange, failedBeforeResponse) {
  const { req, res, body } = exchange;
  backend.inFlight += 1;
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    backend.inFlight -= 1;
    if (backend.inFlight === 0) backend.onIdle?.();
  };
  const upstream = http.request({ host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers: forwardHeaders(req, body), agent: backend.agent });
  exchange.upstream = upstream;
  upstream.on('response', (response) => {
    res.writeHead(response.statusCode ?? 502, response.statusMessage, responseHeaders(response.rawHeaders));
    response.pipe(res);
    response.on('error', () => undefined);
    response.on('close', () => {
      settle();
      if (!response.complete) res.destroy(); // the backend died mid-answer: the client must not take it for whole
    });
  });
  upstream.on('error', (err) => {
    settle();
    if (exchange.clientGone) return;
    if (res.headersSent) res.destroy();
    else failedBeforeResponse(err);
  });
  upstream.end(body.length > 0 ? body : undefined);
}

/** @param {Supervisor} sup */
function createProxy(sup) {
  const server = http.createServer((req, res) => handleRequest(sup, req, res));
  server.on('upgrade', (_req, socket) => {
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 501 Not Implemented\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  return server;
}

/** @param {net.Server} server @param {() => void} listen calls server.listen(…) @returns {Promise<void>} */
function listening(server, listen) {
  return new Promise((done, fail) => {
    const failed = (/** @type {Error} */ err) => {
      server.off('listening', listened);
      fail(err);
    };
    const listened = () => {
      server.off('error', failed);
      done();
    };
    server.once('error', failed);
    server.once('listening', listened);
    listen();
  });
}

/**
 * Binds the public address, retrying EADDRINUSE for up to 5 s (a previous supervisor may be letting go of it).
 * null once bound; the status of the supervisor `holder()` finds answering meanwhile (it won a race) instead.
 * @param {http.Server} server @param {Config['listen']} listen @param {() => Promise<any>} holder
 */
async function bindPublic(server, { host, port }, holder) {
  for (const deadline = Date.now() + 5_000; ; await delay(200)) {
    try {
      await listening(server, () => server.listen(port, host));
      return null;
    } catch (err) {
      if (errorCode(err) !== 'EADDRINUSE') throw err;
      const winner = await holder();
      if (winner) return winner;
      if (Date.now() > deadline) throw err;
    }
  }
}

// ─── The control socket ────────────────────────────────────────────────────────────

/** @param {string} message */
const badRequest = (message) => failure('BAD_REQUEST', message);

/** @param {Supervisor} sup @param {any} request one parsed request line @returns {Promise<object>} */
async function answerControl(sup, request) {
  const { cmd, release } = request ?? {};
  if (cmd === 'status') return sup.status();
  if (cmd === 'shutdown') return { ok: true }; // the server stops once this answer is written
  if (cmd === 'restart') return sup.serial(() => sup.restart());
  if (cmd !== 'prepare' && cmd !== 'promote' && cmd !== 'discard') return badRequest(`unknown command ${JSON.stringify(cmd)}`);
  if (typeof release !== 'string' || !RELEASE_ID.test(release)) return badRequest('release must be a release id');
  return sup.serial(() => (cmd === 'prepare' ? sup.prepare(release) : cmd === 'promote' ? sup.promote(release) : sup.discard(release)));
}

/**
 * One JSON line in, one JSON line out. Answers wait for `ready` (the public port bound).
 * @param {Supervisor} sup @param {Promise<unknown>} ready @param {() => void} onShutdown
 */
function createControlServer(sup, ready, onShutdown) {
  return net.createServer((socket) => {
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    let buffer = '';
    const onData = (/** @type {string} */ chunk) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return void (buffer.length > 64 * 1024 ? socket.destroy() : undefined);
      socket.off('data', onData);
      const request = readOrNull(buffer.slice(0, newline), JSON.parse);
      const answer = request ? ready.then(() => answerControl(sup, request)) : Promise.resolve(badRequest('a request is one JSON object'));
      void answer
        .catch((err) => failure('INTERNAL', errorMessage(err)))
        .then((reply) => socket.end(`${JSON.stringify(reply)}\n`, () => (request?.cmd === 'shutdown' ? onShutdown() : undefined)));
    };
    socket.on('data', onData);
  });
}

/**
 * One request to a running supervisor; null when nothing listens (no socket, or a stale one).
 * @param {string} socketPath @param {object} request @param {number} timeoutMs 0: as long as it takes
 * @returns {Promise<any>}
 */
function controlRequest(socketPath, request, timeoutMs) {
  return new Promise((done, fail) => {
    const socket = net.connect(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    if (timeoutMs > 0) socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => {
      const parsed = readOrNull(answer, JSON.parse);
      if (parsed) done(parsed);
      else fail(new Error('the supervisor closed the connection without an answer'));
    });
    socket.on('error', (err) => (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(errorCode(err)) ? done(null) : fail(err)));
  });
}

// ─── The commands ──────────────────────────────────────────────────────────────────

/**
 * The status of the supervisor answering on the control socket, or null when none does. Something that
 * accepts but fails to answer counts as running: its socket is never taken from it. One that is stopping
 * is waited for (≤ 30 s): a `run` right after a shutdown must not step aside for it. A connection reset
 * before any answer is one stopping too: closing its control server resets the connections it accepted.
 * @param {ReturnType<typeof pathsOf>} paths @param {number} timeoutMs @returns {Promise<any>}
 */
async function runningSupervisor(paths, timeoutMs) {
  for (const deadline = Date.now() + 30_000; ; await delay(100)) {
    const status = await controlRequest(paths.address, { cmd: 'status' }, timeoutMs).catch((err) => ({
      pid: `unknown, ${errorMessage(err)}`,
      state: RESET_BY_PEER.has(errorCode(err)) ? 'stopping' : undefined,
    }));
    if (status?.state !== 'stopping' || Date.now() > deadline) return status;
  }
}

/** @param {string} dropletDir @param {any} running its status */
function alreadyRunning(dropletDir, running) {
  process.stdout.write(`droplet-supervisor: already running for ${dropletDir} (pid ${running.pid})\n`);
  return 0;
}

/**
 * `run`: the daemon in the foreground. Returns 0 when one already answers; otherwise it runs until stopped
 * and exits by itself. The public port is the mutex between supervisors of the droplet: it is bound before
 * anything in run/ is touched, so of two started together the one that loses it leaves the other's
 * socket and pid file alone.
 */
async function runDaemon(/** @type {string} */ dropletDir) {
  const paths = pathsOf(dropletDir);
  mkdirSync(paths.run, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const running = await runningSupervisor(paths, 5_000);
  if (running) return alreadyRunning(dropletDir, running);
  const config = loadConfig(dropletDir);
  const sup = new Supervisor(dropletDir, config);
  const proxy = createProxy(sup);
  const winner = await bindPublic(proxy, config.listen, () => runningSupervisor(paths, 1_000));
  if (winner) return alreadyRunning(dropletDir, winner);
  /** @type {() => void} */
  let serving = () => undefined;
  const ready = new Promise((done) => (serving = () => done(undefined)));
  let stopping = false;
  const stop = () => {
    if (!stopping) void stopDaemon(sup, proxy, control, paths);
    stopping = true;
  };
  const control = createControlServer(sup, ready, stop);
  const listened = await listenControl(control, paths);
  if ('running' in listened) {
    proxy.close();
    return alreadyRunning(dropletDir, listened.running);
  }
  writeFileSync(paths.pid, `${process.pid}\n`, { mode: 0o600 });
  killLeftovers(paths.backends);
  sup.writeRecords();
  process.once('SIGTERM', stop).once('SIGINT', stop);
  log(`supervising ${config.droplet} on http://${config.listen.host}:${config.listen.port} (pid ${process.pid})`);
  sup.startCurrent();
  sup.watchLogs();
  serving();
  return null;
}

/**
 * Listens on the control socket, readable and writable by this user only. A socket file already there is
 * removed only when nothing answers on it (a supervisor that died); when one does, its status is returned.
 * @param {net.Server} control @param {ReturnType<typeof pathsOf>} paths
 * @returns {Promise<{ listening: true } | { running: any }>}
 */
async function listenControl(control, paths) {
  const listen = async () => {
    const umask = process.umask(0o177);
    try {
      await listening(control, () => control.listen(paths.address));
    } finally {
      process.umask(umask);
    }
  };
  try {
    await listen();
  } catch (err) {
    if (errorCode(err) !== 'EADDRINUSE') throw err;
    const running = await runningSupervisor(paths, 5_000);
    if (running) return { running };
    rmSync(paths.socket, { force: true });
    await listen();
  }
  chmodSync(paths.socket, 0o600);
  return { listening: true };
}

/**
 * Stops the backends, then itself. Closing the control server unlinks its socket path (libuv does, by name):
 * no other supervisor's socket can be there, as none replaces one that answers (see listenControl), and one
 * started meanwhile waits for this one to be gone. The pid file is removed only while it is this one's.
 * @param {Supervisor} sup @param {http.Server} proxy @param {net.Server} control @param {ReturnType<typeof pathsOf>} paths
 */
async function stopDaemon(sup, proxy, control, paths) {
  log('stopping: the backends, then the supervisor');
  proxy.close();
  await sup.shutdown();
  proxy.closeAllConnections();
  control.close();
  if (readOrNull(paths.pid, (p) => readFileSync(p, 'utf8').trim()) === String(process.pid)) rmSync(paths.pid, { force: true });
  sup.writeRecords();
  log('stopped');
  process.exit(0);
}

/** `start`: the daemon detached from the caller (an SSH session or the executor may exit); prints its status. */
async function startDetached(/** @type {string} */ dropletDir) {
  const paths = pathsOf(dropletDir);
  // One that is stopping does not count: the `run` started here waits for it to be gone.
  const probe = () => controlRequest(paths.address, { cmd: 'status' }, 3_000).then((s) => (s?.state === 'stopping' ? null : s), () => null);
  const running = await probe();
  if (running) return answerWith(running, 0);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  const fd = openSync(paths.supervisorLog, 'a', 0o600);
  const env = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'run', dropletDir], { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  const started = Date.now();
  for (const deadline = started + 15_000; Date.now() < deadline && !exited; await delay(pollInterval(started))) {
    const status = await probe();
    if (status) return answerWith(status, 0);
  }
  const status = await probe(); // it may have exited because another one won the race
  if (status) return answerWith(status, 0);
  const message = `the supervisor did not answer within 15 s; ${paths.supervisorLog} ends with:\n${logTail(paths.supervisorLog, 20)}`;
  return answerWith(failure('START_FAILED', message), 1);
}

/** `ctl`: one request, its answer printed; exit 3 when no supervisor runs. */
async function ctlCommand(/** @type {string} */ dropletDir, /** @type {string | undefined} */ json) {
  const request = readOrNull(json ?? '', JSON.parse);
  if (!request || typeof request !== 'object') return answerWith(badRequest('ctl takes one JSON request, e.g. \'{"cmd":"status"}\''), 2);
  try {
    const answer = await controlRequest(pathsOf(dropletDir).address, request, 0);
    if (answer) return answerWith(answer, 0);
    return answerWith(failure('NOT_RUNNING', `no supervisor runs for ${dropletDir}`), 3);
  } catch (err) {
    return answerWith(failure('CONTROL_FAILED', errorMessage(err)), 1);
  }
}

async function main() {
  const [command, dir, json] = process.argv.slice(2);
  if (!dir || (command !== 'run' && command !== 'start' && command !== 'ctl')) {
    process.stderr.write('usage: droplet-supervisor.mjs run|start <dropletDir> | ctl <dropletDir> \'<json request>\'\n');
    return 2;
  }
  const dropletDir = resolve(dir);
  try {
    process.chdir(dropletDir); // see pathsOf(): the control socket is addressed relative to it
  } catch (err) {
    if (command !== 'ctl') throw err;
    return answerWith(failure('NOT_RUNNING', `no droplet directory ${dropletDir}`), 3);
  }
  if (command === 'start') return startDetached(dropletDir);
  if (command === 'ctl') return ctlCommand(dropletDir, json);
  // A stray error in one request must not take the droplet down with it: logged, and serving goes on.
  process.on('uncaughtException', (err) => log(`uncaught: ${err.stack ?? err.message}`));
  return runDaemon(dropletDir);
}

main().then(
  (code) => (typeof code === 'number' ? (process.exitCode = code) : undefined),
  (err) => {
    process.stderr.write(`droplet-supervisor: ${errorMessage(err)}\n`);
    process.exit(1);
  },
);
