/**
 * The releases the supervisor's tests deploy: tiny node programs (ES modules; every release
 * directory gets a package.json of type module, so `.js` entries are ESM too).
 */

/** A release that serves: /health, / (its release id), /crash, /env, /echo, /slow?ms=N, /entry, /unlisten. */
const SERVING = `
import http from 'node:http';
import { basename } from 'node:path';
const release = basename(process.cwd());
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/health') {
    res.setHeader('content-type', 'application/json');
    return res.end('{"status":"healthy"}');
  }
  if (url.pathname === '/crash') return res.end('crashing', () => process.exit(1));
  if (url.pathname === '/env') return res.end(JSON.stringify(process.env));
  if (url.pathname === '/entry') return res.end(process.argv[1]);
  if (url.pathname === '/slow') return setTimeout(() => res.end(release), Number(url.searchParams.get('ms')));
  if (url.pathname === '/unlisten') {
    setInterval(() => undefined, 60_000); // alive, but no longer listening on its port
    return res.end('unlistening', () => server.close());
  }
  if (url.pathname === '/echo') {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    return req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(JSON.stringify({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
  }
  res.end(release);
});
server.listen(Number(process.env.SERVICE_PORT), process.env.HOST, () => console.log(release + ' listening on ' + process.env.SERVICE_PORT));
`;

/** A release that listens but never reports healthy. */
const NEVER_HEALTHY = `
import http from 'node:http';
console.error('still warming up: the cache never fills');
http.createServer((req, res) => {
  res.statusCode = 503;
  res.end('{"status":"starting"}');
}).listen(Number(process.env.SERVICE_PORT), process.env.HOST);
`;

/** A release that dies at start. */
const EXITS = `
console.error('boom: DATABASE_URL is not set');
process.exit(1);
`;

/** A release that appends the port it was given to ./port (one line per start) and never listens on it. */
const REPORTS_PORT = `
import { appendFileSync } from 'node:fs';
appendFileSync('port', process.env.SERVICE_PORT + '\\n');
console.log('given port ' + process.env.SERVICE_PORT + ', not listening');
setInterval(() => undefined, 60_000);
`;

/** Serves, and writes 32 KiB to its output every 100 ms; GET /written answers how many bytes so far. */
const FLOODS_LOG = `
import http from 'node:http';
const line = 'x'.repeat(16 * 1024 - 1) + '\\n';
let written = 0;
setInterval(() => {
  for (let i = 0; i < 2; i += 1) process.stdout.write(line);
  written += 2 * line.length;
}, 100);
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(req.url === '/written' ? String(written) : '{"status":"healthy"}');
}).listen(Number(process.env.SERVICE_PORT), process.env.HOST);
`;

/** Dies the first time as if its port had been taken meanwhile (EADDRINUSE), serves the second time. */
const LOSES_PORT_RACE_ONCE = `
import { existsSync, writeFileSync } from 'node:fs';
if (!existsSync('raced')) {
  writeFileSync('raced', '');
  console.error('Error: listen EADDRINUSE: address already in use 127.0.0.1:' + process.env.SERVICE_PORT);
  process.exit(1);
}
${SERVING}`;

/** Serves; on SIGTERM it takes a second to finish before it exits. */
const SLOW_TO_STOP = `
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 1_000));
${SERVING}`;

export const RELEASE_SOURCES = {
  serving: SERVING,
  'never-healthy': NEVER_HEALTHY,
  exits: EXITS,
  'reports-port': REPORTS_PORT,
  'floods-log': FLOODS_LOG,
  'loses-port-race-once': LOSES_PORT_RACE_ONCE,
  'slow-to-stop': SLOW_TO_STOP,
} as const;

export type ReleaseKind = keyof typeof RELEASE_SOURCES;
