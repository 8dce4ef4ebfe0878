/**
 * A fake GitHub on loopback (node:http): the REST routes the publisher uses, under
 * `/api/v3` as GitHub Enterprise serves them, and git's smart HTTP for the repositories
 * it holds (real bare repositories on disk, served by `git http-backend`). It checks the
 * token on every request and records each one, so tests can see the shapes sent.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
}

export interface FakeGitHubOptions {
  /** Where the bare repositories live: `<root>/<owner>/<name>.git`. */
  root: string;
  token: string;
  /** What GET /user answers. */
  login: string;
  /** Repositories that exist from the start (`owner/name`). */
  existing?: string[];
}

const API = '/api/v3';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export class FakeGitHub {
  readonly api: RecordedRequest[] = [];
  readonly git: RecordedRequest[] = [];
  /** While set, every API call is answered 503 (GitHub having a bad moment). */
  unavailable = false;
  private readonly server: Server;
  url = '';

  constructor(private readonly options: FakeGitHubOptions) {
    for (const full of options.existing ?? []) this.createRepository(full);
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => json(res, 500, { message: String(error) }));
    });
  }

  get apiUrl(): string {
    return `${this.url}${API}`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Owners are case-insensitive on GitHub. */
  repositoryPath(owner: string, name: string): string {
    return join(this.options.root, owner.toLowerCase(), `${name}.git`);
  }

  private createRepository(full: string): void {
    const [owner, name] = full.split('/') as [string, string];
    const dir = this.repositoryPath(owner, name);
    mkdirSync(dir, { recursive: true });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  }

  private repositoryAnswer(owner: string, name: string, isPrivate: boolean) {
    return { name, full_name: `${owner}/${name}`, private: isPrivate, default_branch: 'main', clone_url: `${this.url}/${owner}/${name}.git` };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    const authorization = req.headers.authorization ?? null;
    if (url.pathname.startsWith(`${API}/`)) return this.handleApi(req, res, url.pathname.slice(API.length), authorization, body);
    this.git.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, authorization, body: null });
    return this.handleGit(req, res, url, authorization, body);
  }

  private handleApi(req: IncomingMessage, res: ServerResponse, path: string, authorization: string | null, raw: Buffer): void {
    const body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as unknown) : null;
    this.api.push({ method: req.method ?? '', path, authorization, body });
    if (this.unavailable) return json(res, 503, { message: 'Service Unavailable' });
    // Octokit sends `token <t>` for a personal token; GitHub also accepts `Bearer <t>`.
    if (authorization !== `token ${this.options.token}` && authorization !== `Bearer ${this.options.token}`) {
      return json(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    }
    if (req.method === 'GET' && path === '/user') return json(res, 200, { login: this.options.login, id: 1 });
    const repo = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && repo) {
      const [, owner, name] = repo as unknown as [string, string, string];
      if (!existsSync(this.repositoryPath(owner, name))) return json(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      return json(res, 200, this.repositoryAnswer(owner, name, true));
    }
    const inOrg = /^\/orgs\/([^/]+)\/repos$/.exec(path)?.[1];
    const forUser = path === '/user/repos' ? this.options.login : undefined;
    const owner = inOrg ?? forUser;
    if (req.method === 'POST' && owner) {
      const shape = body as { name?: unknown; private?: unknown; auto_init?: unknown };
      if (typeof shape?.name !== 'string' || typeof shape.private !== 'boolean' || shape.auto_init !== false) {
        return json(res, 422, { message: 'Validation Failed', errors: [{ message: 'name, private and auto_init: false expected' }] });
      }
      if (existsSync(this.repositoryPath(owner, shape.name))) return json(res, 422, { message: 'Repository creation failed.', errors: [{ message: 'name already exists on this account' }] });
      this.createRepository(`${owner}/${shape.name}`);
      return json(res, 201, this.repositoryAnswer(owner, shape.name, shape.private));
    }
    return json(res, 404, { message: 'Not Found' });
  }

  /** git's smart HTTP, through `git http-backend` (CGI), for a request carrying the token as Basic x-access-token. */
  private handleGit(req: IncomingMessage, res: ServerResponse, url: URL, authorization: string | null, body: Buffer): Promise<void> {
    const expected = `Basic ${Buffer.from(`x-access-token:${this.options.token}`).toString('base64')}`;
    if (authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' });
      res.end('Unauthorized');
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const child = spawn('git', ['http-backend'], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_PROJECT_ROOT: this.options.root,
          GIT_HTTP_EXPORT_ALL: '1',
          // Set only for an authenticated request: http-backend then accepts pushes.
          REMOTE_USER: 'x-access-token',
          REMOTE_ADDR: '127.0.0.1',
          REQUEST_METHOD: req.method ?? 'GET',
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.replace(/^\?/, ''),
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          CONTENT_LENGTH: String(body.length),
          ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
          ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        },
      });
      const out: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.resume();
      child.on('error', reject);
      child.on('close', () => {
        const all = Buffer.concat(out);
        const split = all.indexOf('\r\n\r\n');
        const head = all.subarray(0, split).toString('latin1');
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of head.split('\r\n')) {
          const at = line.indexOf(':');
          const name = line.slice(0, at).trim().toLowerCase();
          const value = line.slice(at + 1).trim();
          if (name === 'status') status = Number.parseInt(value, 10);
          else if (name) headers[name] = value;
        }
        res.writeHead(status, headers);
        res.end(all.subarray(split + 4));
        resolve();
      });
      child.stdin.end(body);
    });
  }
}
