/**
 * A small dependency-free droplet in a real git repository, for deploy tests: each
 * `commit()` writes one version (healthy, unhealthy, or crashing at start) and commits
 * it, and `request()` makes the DeployRequest a build's deploy step would, with a real
 * `git archive` of that commit. Its routes let a test look at what the droplet can see.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DropletIdentity } from '../../src/domain/build.js';
import type { DeployRequest } from '../../src/domain/ports/deploy.js';

export type Behaviour = 'healthy' | 'unhealthy' | 'crash';

const SERVER = (version: string, behaviour: Behaviour, dependency: boolean) => `'use strict';
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
${dependency ? "const isNumber = require('is-number');" : 'const isNumber = null;'}
const version = ${JSON.stringify(version)};
const behaviour = ${JSON.stringify(behaviour)};
if (behaviour === 'crash') throw new Error('boom at startup');
const started = Date.now();
// Its own pid is the same in every start under a pid namespace: this tells one start from the next.
const instance = require('node:crypto').randomUUID();
function attempt(work) {
  try { const value = work(); return value === undefined ? 'ok' : value; } catch (error) { return error.code || String(error.message); }
}
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://droplet');
  const send = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
  if (url.pathname === '/health') {
    return send(behaviour === 'healthy' ? 200 : 503, { status: behaviour, version, uptime_seconds: Math.floor((Date.now() - started) / 1000) });
  }
  if (url.pathname === '/') return send(200, { version, instance, dependency: isNumber ? isNumber(5) : null });
  if (url.pathname === '/slow') return setTimeout(() => send(200, { version, slow: true }), Number(url.searchParams.get('ms') || 300));
  if (url.pathname === '/crash') { send(200, { crashing: true }); return setTimeout(() => process.exit(3), 10); }
  if (url.pathname === '/note' && req.method === 'POST') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    return req.on('end', () => { fs.appendFileSync(path.join(process.env.DATA_DIR, 'notes.txt'), body + '\\n'); send(201, { saved: body }); });
  }
  if (url.pathname === '/notes') return send(200, { notes: attempt(() => fs.readFileSync(path.join(process.env.DATA_DIR, 'notes.txt'), 'utf8')) });
  if (url.pathname === '/peek') {
    const paths = JSON.parse(url.searchParams.get('paths') || '[]');
    return send(200, {
      uid: process.getuid(),
      env: Object.keys(process.env).sort(),
      reads: Object.fromEntries(paths.map((p) => [p, attempt(() => { const stat = fs.statSync(p); return stat.isDirectory() ? 'listed:' + fs.readdirSync(p).length : 'read:' + fs.readFileSync(p).length; })])),
      writeRelease: attempt(() => fs.writeFileSync(path.join(__dirname, 'planted.js'), 'x')),
      writeShared: attempt(() => fs.writeFileSync(path.join(process.env.DATA_DIR, 'probe.txt'), 'x')),
      rewriteEnv: attempt(() => fs.appendFileSync(path.join(process.env.DATA_DIR, '..', '.env'), 'LD_PRELOAD=/tmp/x.so\\n')),
    });
  }
  send(404, { error: { code: 'NOT_FOUND', message: 'no such route', details: {} } });
});
server.keepAliveTimeout = 2000;
server.listen(Number(process.env.SERVICE_PORT), process.env.HOST, () => console.log(JSON.stringify({ msg: 'listening', version, behaviour, token: process.env.API_TOKEN || null })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function git(dir: string, args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@localhost', ...args], { cwd: dir, encoding: 'utf8' }).trim();
}

export class FleetDroplet {
  readonly dir: string;
  private counter = 0;

  constructor(readonly identity: DropletIdentity) {
    this.dir = mkdtempSync(join(tmpdir(), `fleet-droplet-${identity.name}-`));
    git(this.dir, ['init', '-q', '-b', 'main']);
  }

  /** Writes and commits one version; returns the commit. `dependency` adds is-number with a lockfile (needs the npm registry). */
  commit(version: string, behaviour: Behaviour = 'healthy', options: { dependency?: boolean; main?: string } = {}): string {
    const main = options.main ?? 'src/server.js';
    mkdirSync(join(this.dir, dirname(main)), { recursive: true });
    const manifest: Record<string, unknown> = { name: this.identity.name, version, main, private: true };
    if (options.dependency) manifest.dependencies = { 'is-number': '7.0.0' };
    writeFileSync(join(this.dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    // The entry moves between commits: only the manifest's `main` is current.
    rmSync(join(this.dir, 'src'), { recursive: true, force: true });
    rmSync(join(this.dir, 'lib'), { recursive: true, force: true });
    mkdirSync(join(this.dir, dirname(main)), { recursive: true });
    writeFileSync(join(this.dir, main), SERVER(version, behaviour, options.dependency === true));
    if (options.dependency) execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: this.dir, stdio: 'ignore' });
    git(this.dir, ['add', '-A']);
    git(this.dir, ['commit', '-q', '--allow-empty', '-m', `version ${version} (${behaviour})`]);
    return git(this.dir, ['rev-parse', 'HEAD']);
  }

  /** A build-like release id: unique per call. */
  releaseId(): string {
    this.counter += 1;
    return `build-${this.identity.dropletId}-${this.identity.name}-${process.pid}-${this.counter}`;
  }

  request(releaseId: string, commit: string, extra: Partial<DeployRequest> = {}): DeployRequest {
    return {
      releaseId,
      droplet: this.identity,
      sourceDir: this.dir,
      commit,
      archive: async (file) => void git(this.dir, ['archive', '--format=tar', `--output=${file}`, commit]),
      signal: new AbortController().signal,
      ...extra,
    };
  }
}
