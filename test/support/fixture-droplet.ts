/**
 * Writes a tiny droplet into a directory: a dependency-free Node http server that
 * follows the UDC contract, with its own `node --test` tests. Each option switches on
 * one defect, so tests can build broken or hostile droplets from the same base.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { testSource, type UdcTestPath, type UntestedHow } from './fixture-droplet-tests.js';

export { UDC_TEST_PATHS, type UdcTestPath, type UntestedHow } from './fixture-droplet-tests.js';

export interface FixtureDropletOptions {
  name?: string;
  dropletId?: number;
  version?: string;
  /** No GET /state route. */
  missingState?: boolean;
  /** /health answers `{status: "ok", uptime: 1.5}`. */
  wrongHealthShape?: boolean;
  /** Declares bearer authentication but answers everyone. */
  ignoresCredentials?: boolean;
  /** Unknown paths answer a text/plain 404 instead of the UDC error shape. */
  nonUdcNotFound?: boolean;
  /** Logs bare text lines instead of JSON. */
  plainTextLogs?: boolean;
  /** Declares `GET /widgets/report` in integration_endpoints without serving it. */
  declaresMissingEndpoint?: boolean;
  /** Declares an integration endpoint with this path, e.g. `//127.0.0.1:9/secret`, which URL parsing would send to another host. */
  declaresForeignEndpoint?: string;
  /** Prints the token it was given on startup and echoes the Authorization header in 404 bodies. */
  leaksToken?: boolean;
  /** Writes the API_TOKEN it was started with to this file (relative to the droplet), so a test can look for leaks. */
  writesTokenTo?: string;
  /** /health waits this long before answering. */
  slowHealthMs?: number;
  /** An invalid POST /message gets a 400 with `{message}` instead of the UDC error shape. */
  nonUdcBadRequest?: boolean;
  /** The droplet's own tests leave these endpoints untested (by default they request all five). */
  untestedEndpoints?: Partial<Record<UdcTestPath, UntestedHow>>;
  /** Exits with code 1 right after printing this line. */
  crashOnStart?: string;
  /** Adds a test of this name that fails. */
  failingTestName?: string;
  /** Replaces `node --test` as the package's test script. */
  testScript?: string;
  /** More files, repository-relative path → content. */
  extraFiles?: Record<string, string>;
}

export interface FixtureDroplet {
  dir: string;
  name: string;
  dropletId: number;
}

function appSource(options: FixtureDropletOptions): string {
  const defects = {
    missingState: options.missingState ?? false,
    wrongHealthShape: options.wrongHealthShape ?? false,
    ignoresCredentials: options.ignoresCredentials ?? false,
    nonUdcNotFound: options.nonUdcNotFound ?? false,
    declaresMissingEndpoint: options.declaresMissingEndpoint ?? false,
    declaresForeignEndpoint: options.declaresForeignEndpoint ?? null,
    leaksToken: options.leaksToken ?? false,
    slowHealthMs: options.slowHealthMs ?? 0,
    nonUdcBadRequest: options.nonUdcBadRequest ?? false,
  };
  return `import http from 'node:http';
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { log } from './log.js';

const DEFECTS = ${JSON.stringify(defects)};
const VERSION = ${JSON.stringify(options.version ?? '1.0.0')};
const MESSAGE_TYPES = ['task_assignment', 'status_update', 'query', 'command', 'event', 'status'];
const ENDPOINTS = [
  { path: '/widgets', method: 'GET', description: 'List widgets' },
  { path: '/widgets', method: 'POST', description: 'Create a widget' },
  { path: '/widgets/:id', method: 'GET', description: 'One widget' },
  ...(DEFECTS.declaresMissingEndpoint ? [{ path: '/widgets/report', method: 'GET', description: 'Never served' }] : []),
  ...(DEFECTS.declaresForeignEndpoint ? [{ path: DEFECTS.declaresForeignEndpoint, method: 'DELETE', description: 'Somewhere else' }] : []),
];

const digest = (value) => createHash('sha256').update(value).digest();

export function createApp(config) {
  const startedAt = Date.now();
  let lastActivity = new Date();
  let served = 0;
  let failed = 0;
  let totalMs = 0;
  const widgets = new Map();

  const send = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const fail = (res, status, code, message, details = {}) => send(res, status, { error: { code, message, details } });
  const authorized = (req) => {
    if (!config.token || DEFECTS.ignoresCredentials) return true;
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    return timingSafeEqual(digest(given), digest(config.token));
  };
  const readJson = (req) => new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => { size += chunk.length; if (size <= 65536) chunks.push(chunk); });
    req.on('end', () => {
      if (size > 65536) return resolve({ tooLarge: true });
      try { resolve({ value: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }); } catch { resolve({ invalid: true }); }
    });
  });
  const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

  async function route(req, res, path) {
    if (req.method === 'GET' && path === '/health') {
      if (DEFECTS.slowHealthMs > 0) await new Promise((resolve) => setTimeout(resolve, DEFECTS.slowHealthMs));
      if (DEFECTS.wrongHealthShape) return send(res, 200, { status: 'ok', uptime: (Date.now() - startedAt) / 1000 });
      return send(res, 200, { status: 'healthy', timestamp: new Date().toISOString(), uptime_seconds: Math.floor((Date.now() - startedAt) / 1000), version: VERSION });
    }
    if (!authorized(req)) return fail(res, 401, 'UNAUTHORIZED', 'A valid bearer token is required.');
    lastActivity = new Date();
    if (req.method === 'GET' && path === '/capabilities') {
      return send(res, 200, {
        service_name: config.serviceName,
        droplet_id: config.dropletId,
        version: VERSION,
        capabilities: ['widgets'],
        supported_operations: ['list_widgets', 'create_widget', 'get_widget'],
        integration_endpoints: ENDPOINTS,
        ...(config.token ? { authentication: { type: 'bearer', env: 'API_TOKEN' } } : {}),
      });
    }
    if (req.method === 'GET' && path === '/state' && !DEFECTS.missingState) {
      const minutes = Math.max((Date.now() - startedAt) / 60000, 1 / 60);
      return send(res, 200, {
        status: 'active',
        mode: 'development',
        last_activity: lastActivity.toISOString(),
        metrics: {
          requests_per_minute: served / minutes,
          average_response_time_ms: served ? totalMs / served : 0,
          error_rate_percent: served ? (failed / served) * 100 : 0,
        },
      });
    }
    if (req.method === 'GET' && path === '/dependencies') {
      return send(res, 200, { required_services: [], optional_services: [], external_apis: [] });
    }
    if (req.method === 'POST' && path === '/message') {
      const body = await readJson(req);
      if (body.tooLarge) return fail(res, 413, 'PAYLOAD_TOO_LARGE', 'The body is larger than 64 KiB.');
      const value = body.value;
      const fields = [];
      if (!isObject(value) || typeof value.from_service !== 'string' || value.from_service === '') fields.push('from_service');
      if (!isObject(value) || !MESSAGE_TYPES.includes(value.message_type)) fields.push('message_type');
      if (!isObject(value) || !isObject(value.payload)) fields.push('payload');
      if ((body.invalid || fields.length > 0) && DEFECTS.nonUdcBadRequest) return send(res, 400, { message: 'bad request' });
      if (body.invalid || fields.length > 0) return fail(res, 400, 'VALIDATION_FAILED', 'The message is not valid.', { fields });
      return send(res, 202, { received: true, message_id: randomUUID(), status: 'processing' });
    }
    if (req.method === 'GET' && path === '/widgets') return send(res, 200, { widgets: [...widgets.values()] });
    if (req.method === 'POST' && path === '/widgets') {
      const body = await readJson(req);
      if (!isObject(body.value) || typeof body.value.name !== 'string') return fail(res, 400, 'VALIDATION_FAILED', 'A widget needs a name.', { fields: ['name'] });
      const widget = { id: String(widgets.size + 1), name: body.value.name };
      widgets.set(widget.id, widget);
      return send(res, 201, widget);
    }
    const widgetPath = /^\\/widgets\\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && widgetPath && widgetPath[1] !== 'report') {
      const widget = widgets.get(widgetPath[1]);
      return widget ? send(res, 200, widget) : fail(res, 404, 'NOT_FOUND', 'No such widget.', { id: widgetPath[1] });
    }
    if (DEFECTS.nonUdcNotFound) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      const echoed = DEFECTS.leaksToken ? \` (you sent \${req.headers.authorization ?? 'nothing'})\` : '';
      return res.end(\`Cannot \${req.method} \${path}\${echoed}\`);
    }
    const details = DEFECTS.leaksToken ? { authorization: req.headers.authorization ?? null } : {};
    return fail(res, 404, 'NOT_FOUND', \`No route \${req.method} \${path}.\`, details);
  }

  return http.createServer((req, res) => {
    const started = Date.now();
    const path = new URL(req.url ?? '/', 'http://droplet').pathname;
    res.on('finish', () => {
      served += 1;
      if (res.statusCode >= 500) failed += 1;
      totalMs += Date.now() - started;
      if (!config.quiet) log('info', 'request', { method: req.method, path, status: res.statusCode });
    });
    route(req, res, path).catch(() => fail(res, 500, 'INTERNAL', 'The droplet hit an internal error.'));
  });
}
`;
}

function logSource(plainText: boolean): string {
  return `export function log(level, msg, fields = {}) {
  const line = ${plainText
    ? '`${level.toUpperCase()}: ${msg} ${Object.values(fields).join(\' \')}`'
    : 'JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields })'};
  process.stdout.write(line + '\\n');
}
`;
}

function serverSource(options: FixtureDropletOptions, name: string, dropletId: number): string {
  const crash = options.crashOnStart === undefined
    ? ''
    : `console.error(${JSON.stringify(options.crashOnStart)});\nprocess.exit(1);\n`;
  const leak = options.leaksToken ? `log('info', 'starting with token ' + process.env.API_TOKEN);\n` : '';
  const record = options.writesTokenTo === undefined
    ? ''
    : `writeFileSync(${JSON.stringify(options.writesTokenTo)}, process.env.API_TOKEN ?? '');\n`;
  return `import { writeFileSync } from 'node:fs';
import { createApp } from './app.js';
import { log } from './log.js';

${record}
${crash}${leak}const config = {
  serviceName: process.env.SERVICE_NAME ?? ${JSON.stringify(name)},
  dropletId: Number(process.env.DROPLET_ID ?? ${dropletId}),
  token: process.env.API_TOKEN || undefined,
};
const server = createApp(config);
const port = Number(process.env.SERVICE_PORT ?? 3000);
server.listen(port, process.env.HOST ?? '127.0.0.1', () => log('info', 'listening', { port }));
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
`;
}

export async function writeFixtureDroplet(dir: string, options: FixtureDropletOptions = {}): Promise<FixtureDroplet> {
  const name = options.name ?? 'fixture-widgets';
  const dropletId = options.dropletId ?? 42;
  const packageJson = {
    name,
    version: options.version ?? '1.0.0',
    private: true,
    type: 'module',
    main: 'src/server.js',
    scripts: { start: 'node src/server.js', test: options.testScript ?? 'node --test' },
    engines: { node: '>=20' },
  };
  const files: Record<string, string> = {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'src/app.js': appSource(options),
    'src/log.js': logSource(options.plainTextLogs ?? false),
    'src/server.js': serverSource(options, name, dropletId),
    'test/udc.test.js': testSource(options),
    ...options.extraFiles,
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { dir, name, dropletId };
}
