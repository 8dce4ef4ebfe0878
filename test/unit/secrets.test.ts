import { describe, expect, it } from 'vitest';
import { REDACTED, SecretRedactor, SecretScanner } from '../../src/support/secrets.js';

// Built at run time so this file never holds a literal that scanners (ours or GitHub's) flag.
const random = (alphabet: string, length: number, seed = 7): string => {
  let state = seed;
  let out = '';
  for (let i = 0; i < length; i += 1) {
    state = (state * 1103515245 + 12345) % 2147483648;
    out += alphabet[state % alphabet.length];
  }
  return out;
};
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = `${ALNUM}+/`;

const samples = {
  aws: `AKIA${random(UPPER_DIGITS, 16)}`,
  anthropic: `sk-ant-api03-${random(`${ALNUM}_-`, 93)}AA`,
  openaiProject: `sk-proj-${random(`${ALNUM}_-`, 120)}`,
  openaiLegacy: `sk-${random(ALNUM, 20)}T3BlbkFJ${random(ALNUM, 20, 3)}`,
  githubClassic: `ghp_${random(ALNUM, 36)}`,
  githubFineGrained: `github_pat_11${random(ALNUM, 22)}_${random(ALNUM, 59, 5)}`,
  slack: `xoxb-${random('0123456789', 12)}-${random('0123456789', 13, 9)}-${random(ALNUM, 24)}`,
  slackWebhook: `https://hooks.slack.com/services/T${random(UPPER_DIGITS, 8)}/B${random(UPPER_DIGITS, 8, 4)}/${random(ALNUM, 24, 11)}`,
  pem: `-----BEGIN RSA PRIVATE KEY-----\n${random(BASE64, 64)}\n${random(BASE64, 64, 2)}\n-----END RSA PRIVATE KEY-----\n`,
  encryptedPem: `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,${random('0123456789ABCDEF', 32)}\n\n${random(BASE64, 64)}\n-----END RSA PRIVATE KEY-----`,
  openssh: `-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----`,
};

describe('SecretRedactor', () => {
  const apiKey = 'sk-test-0123456789abcdef';
  const token = 'executor-api-token-42';

  it('replaces every occurrence of every secret', () => {
    const redactor = new SecretRedactor([apiKey, token]);
    expect(redactor.redact(`Bearer ${token}; key=${apiKey}; again ${token}`)).toBe(`Bearer ${REDACTED}; key=${REDACTED}; again ${REDACTED}`);
  });

  it('ignores empty, missing and short values, which would blank ordinary text', () => {
    const redactor = new SecretRedactor(['', undefined, null, 'abc', '12345']);
    expect(redactor.size).toBe(0);
    expect(redactor.redact('abc 12345 abcdef')).toBe('abc 12345 abcdef');
  });

  it('redacts a longer secret whole even when it contains a shorter one', () => {
    const redactor = new SecretRedactor(['secret', 'secret-and-more']);
    expect(redactor.redact('x secret-and-more y secret')).toBe(`x ${REDACTED} y ${REDACTED}`);
  });

  it('redacts the URL-encoded form of a secret', () => {
    const secret = 'p@ss/word+1';
    expect(new SecretRedactor([secret]).redact(`https://x/?k=${encodeURIComponent(secret)}`)).toBe(`https://x/?k=${REDACTED}`);
  });

  it('redactDeep copies objects and arrays with every string redacted', () => {
    const redactor = new SecretRedactor([token]);
    const input = { message: `failed with ${token}`, nested: { list: [token, 3, true, null], [token]: 'key' }, count: 2 };
    const output = redactor.redactDeep(input);
    expect(output).toEqual({ message: `failed with ${REDACTED}`, nested: { list: [REDACTED, 3, true, null], [REDACTED]: 'key' }, count: 2 });
    expect(input.message).toContain(token);
    expect(JSON.stringify(output)).not.toContain(token);
  });

  it('redactDeep survives cycles and turns errors into plain redacted objects', () => {
    const redactor = new SecretRedactor([token]);
    const cyclic: Record<string, unknown> = { text: token };
    cyclic.self = cyclic;
    const output = redactor.redactDeep({ cyclic, error: new Error(`bad ${token}`) });
    expect(output.cyclic.text).toBe(REDACTED);
    expect(output.cyclic.self).toBe(output.cyclic);
    expect(output.error).toEqual({ name: 'Error', message: `bad ${REDACTED}` });
  });
});

describe('SecretScanner', () => {
  it.each([
    ['aws_access_key_id', samples.aws],
    ['anthropic_api_key', samples.anthropic],
    ['openai_api_key', samples.openaiProject],
    ['openai_api_key', samples.openaiLegacy],
    ['github_token', samples.githubClassic],
    ['github_token', samples.githubFineGrained],
    ['slack_token', samples.slack],
    ['slack_webhook_url', samples.slackWebhook],
    ['private_key', samples.pem],
    ['private_key', samples.encryptedPem],
    ['private_key', samples.openssh],
  ])('finds %s', (kind, secret) => {
    const findings = new SecretScanner().scan([{ path: 'src/config.js', content: `// config\nconst value = '${secret}';\n` }]);
    expect(findings).toEqual([{ path: 'src/config.js', kind, line: 2 }]);
  });

  it("finds the executor's own secret values and never reports the value", () => {
    const secret = 'webhook-secret-value-123';
    const findings = new SecretScanner([secret, 'short']).scan([
      { path: 'a.txt', content: 'nothing here' },
      { path: 'b.txt', content: `first line\nsecond ${secret}` },
    ]);
    expect(findings).toEqual([{ path: 'b.txt', kind: 'executor_secret', line: 2 }]);
    expect(JSON.stringify(findings)).not.toContain(secret);
  });

  it('reports one finding per file and kind', () => {
    const content = `${samples.githubClassic}\n${samples.githubClassic}\n${samples.aws}`;
    const findings = new SecretScanner().scan([{ path: 'x', content }]);
    expect(findings.map((f) => f.kind)).toEqual(['aws_access_key_id', 'github_token']);
  });

  it('keeps quiet about ordinary code, tests, placeholders and documentation examples', () => {
    const content = [
      "const token = process.env.API_TOKEN; // the bearer token",
      "it('rejects a request without a token', () => expect(auth('')).toBe(401));",
      "const apiKey = 'sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';",
      "const example = 'AKIAIOSFODNN7EXAMPLE';",
      "if (pem.startsWith('-----BEGIN PRIVATE KEY-----')) parse(pem);",
      "const header = 'xoxb-your-token-here';",
      "const taskName = 'sk-learning-module-for-onboarding-new-hires-and-interns';",
      "const sha = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';",
    ].join('\n');
    expect(new SecretScanner(['executor-secret-value']).scan([{ path: 'test/app.test.js', content }])).toEqual([]);
  });
});
