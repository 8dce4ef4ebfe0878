import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/composition/config.js';
import { createLogger } from '../../src/composition/logger.js';
import { SecretRedactor } from '../../src/support/secrets.js';

const TOKEN = 'api-token-5e1f0c2b7a9d';
const QUOTED = 'whsec-"quoted"\\back-slash';

/** A logger over the executor's configuration, writing into an array of parsed lines. */
function capture(env: Record<string, string> = { API_TOKEN: TOKEN, NOTIFY_WEBHOOK_URL: 'https://hooks.example/x', NOTIFY_WEBHOOK_SECRET: QUOTED }) {
  const config = loadConfig(env);
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString('utf8'));
      callback();
    },
  });
  const log = createLogger(config, new SecretRedactor(config.secrets), sink);
  return { log, raw, lines: () => raw.join('').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('redacts a secret inside a nested field of a logged object', () => {
    const { log, raw, lines } = capture();
    log.error(
      { request: { headers: { 'x-api-token': TOKEN }, attempts: [{ detail: `Bearer ${TOKEN} refused` }] }, err: new Error(`child said ${TOKEN}`) },
      `delivery failed with ${TOKEN}`,
    );
    expect(raw.join('')).not.toContain(TOKEN);
    const [line] = lines();
    expect(line).toMatchObject({
      msg: 'delivery failed with [REDACTED]',
      request: { headers: { 'x-api-token': '[REDACTED]' }, attempts: [{ detail: 'Bearer [REDACTED] refused' }] },
      err: { message: 'child said [REDACTED]' },
    });
    // The error keeps its stack: the line is scrubbed, not the object copied field by field.
    expect((line!.err as { stack: string }).stack).toContain('logger.test.ts');
  });

  it('redacts secrets in child bindings, keys, and fields JSON escapes', () => {
    const { log, raw, lines } = capture();
    log.child({ component: 'notify', target: `https://hooks.example/?t=${TOKEN}` }).warn({ [TOKEN]: 1, signing: { key: QUOTED } }, 'refused');
    const text = raw.join('');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(JSON.stringify(QUOTED).slice(1, -1));
    expect(lines()[0]).toMatchObject({ target: 'https://hooks.example/?t=[REDACTED]', '[REDACTED]': 1, signing: { key: '[REDACTED]' } });
  });

});
