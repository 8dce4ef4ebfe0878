/** One log line per request, as JSON or as one human line, with credentials kept out of both. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.js';
import { createLogger, logFormatOf, prettyLines } from '../../src/composition/logger.js';
import { SecretRedactor } from '../../src/support/secrets.js';
import { listen, startsTestApps } from '../support/http-app.js';

const TOKEN = 'api-token-5e1f0c2b7a9d';
const QUOTED = 'whsec-"quoted"\\back-slash';
const LINK_TOKEN = 'v1.link-token-that-must-not-be-logged';
const WRONG_TOKEN = 'wrong-token-from-a-browser-7731';
const start = startsTestApps();

/** A logger in `format` over a real configuration, writing into a string buffer. */
function capture(format: 'json' | 'pretty') {
  const config = loadConfig({ API_TOKEN: TOKEN, NOTIFY_WEBHOOK_URL: 'https://hooks.example/x', NOTIFY_WEBHOOK_SECRET: QUOTED, LOG_FORMAT: format });
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger(config, new SecretRedactor(config.secrets), sink, false);
  // Everything but the listen announcement, which is no request's.
  const lines = () => raw.join('').split('\n').filter((line) => line !== '' && !line.includes('Server listening at'));
  return { log, text: () => raw.join(''), lines };
}

/** The same five requests, over real HTTP: public, authorized, refused, an approval link, a stream URL with a token. */
async function sendRequests(log: ReturnType<typeof capture>['log']): Promise<void> {
  const { app } = await start({ logger: log, apiToken: TOKEN });
  const base = await listen(app);
  const auth = { authorization: `Bearer ${TOKEN}` };
  expect((await fetch(`${base}/health`)).status).toBe(200);
  expect((await fetch(`${base}/executor/builds?limit=5`, { headers: auth })).status).toBe(200);
  expect((await fetch(`${base}/executor/builds`)).status).toBe(401);
  expect((await fetch(`${base}/executor/approvals/${LINK_TOKEN}`, { headers: auth })).status).toBeGreaterThanOrEqual(400);
  expect((await fetch(`${base}/no/such/route?token=${WRONG_TOKEN}&x=1`, { headers: auth })).status).toBe(404);
}

describe('request logging', () => {
  it('writes one JSON line per request with method, masked URL, status, duration and request id', async () => {
    const { log, text, lines } = capture('json');
    await sendRequests(log);
    const entries = lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.filter((entry) => entry.msg === 'incoming request' || entry.msg === 'request completed')).toEqual([]);
    const requests = entries.filter((entry) => entry.msg === 'request');
    expect(requests.map((entry) => [entry.method, entry.url, entry.status_code])).toEqual([
      ['GET', '/health', 200],
      ['GET', '/executor/builds?limit=5', 200],
      ['GET', '/executor/builds', 401],
      ['GET', '/executor/approvals/[REDACTED]', requests[3]!.status_code],
      ['GET', '/no/such/route?token=[REDACTED]&x=1', 404],
    ]);
    for (const entry of requests) {
      expect(entry.duration_ms).toEqual(expect.any(Number));
      expect(entry.reqId).toEqual(expect.any(String));
    }
    expect(new Set(requests.map((entry) => entry.reqId)).size).toBe(5);
    // A refused request says why in its one line, and in no other.
    expect(requests[2]).toMatchObject({ error_code: 'UNAUTHORIZED', level: 30 });
    expect(requests[4]).toMatchObject({ error_code: 'NOT_FOUND' });
    expect(requests[0]).not.toHaveProperty('error_code');
    expect(entries).toHaveLength(requests.length);
    expect(text()).not.toContain(LINK_TOKEN);
    expect(text()).not.toContain(WRONG_TOKEN);
  });

  it('renders one human line per request in pretty mode', async () => {
    const { log, text, lines } = capture('pretty');
    await sendRequests(log);
    const output = lines();
    expect(output).toHaveLength(5);
    expect(output[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: GET \/health 200 \d+(\.\d+)? ms \{"reqId":"req-[\w-]+"\}$/);
    expect(output[2]).toMatch(/INFO: GET \/executor\/builds 401 \d+(\.\d+)? ms UNAUTHORIZED /);
    expect(output[4]).toMatch(/GET \/no\/such\/route\?token=\[REDACTED\]&x=1 404 .* NOT_FOUND/);
    expect(text()).not.toContain(LINK_TOKEN);
    expect(text()).not.toContain(WRONG_TOKEN);
    expect(text()).not.toContain('{"level"');
  });

  it('scrubs secrets from pretty lines too: messages, fields, bindings and errors', () => {
    const { log, text, lines } = capture('pretty');
    log.child({ target: `https://hooks.example/?t=${TOKEN}` }).warn({ signing: { key: QUOTED }, detail: `Bearer ${TOKEN}` }, `refused ${TOKEN}`);
    log.error({ err: new Error(`child said ${TOKEN} and ${QUOTED}`) }, 'delivery failed');
    expect(text()).not.toContain(TOKEN);
    expect(text()).not.toContain(QUOTED);
    expect(text()).not.toContain(JSON.stringify(QUOTED).slice(1, -1));
    expect(lines()[0]).toMatch(/WARN: refused \[REDACTED\] .*"key":"\[REDACTED\]"/);
    expect(text()).toContain('child said [REDACTED] and [REDACTED]');
  });
});

describe('the log format', () => {
  it('is pretty only at a terminal unless LOG_FORMAT says otherwise', () => {
    expect(logFormatOf('auto', true)).toBe('pretty');
    expect(logFormatOf('auto', false)).toBe('json');
    expect(logFormatOf('json', true)).toBe('json');
    expect(logFormatOf('pretty', false)).toBe('pretty');
    expect(loadConfig({}).LOG_FORMAT).toBe('auto');
  });

  it('passes a line that is not JSON through as it is', () => {
    expect(prettyLines({ colorize: false })('not json\n')).toBe('not json\n');
  });
});
