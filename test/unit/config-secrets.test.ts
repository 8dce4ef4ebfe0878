import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/composition/config.js';
import { plaintextCredentialWarnings } from '../../src/composition/transport-warnings.js';
import { SecretRedactor } from '../../src/support/secrets.js';

const basic = (credentials: string) => Buffer.from(credentials, 'utf8').toString('base64');

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the configuration was accepted');
}

describe('config: secrets', () => {
  it('wants a webhook signing secret of at least 16 characters, without echoing a shorter one', () => {
    const error = configError({ NOTIFY_WEBHOOK_URL: 'https://hooks.example/x', NOTIFY_WEBHOOK_SECRET: 'whsec-15-chars!' });
    expect(error.message).toBe('Invalid configuration: NOTIFY_WEBHOOK_SECRET=(value hidden): must be at least 16 characters (it signs each delivery)');
    expect(loadConfig({ NOTIFY_WEBHOOK_URL: 'https://hooks.example/x', NOTIFY_WEBHOOK_SECRET: 'whsec-16-chars!!' }).NOTIFY_WEBHOOK_SECRET).toBe('whsec-16-chars!!');
  });

  it('redacts the webhook URL whole: its path can hold a token', () => {
    const config = loadConfig({ NOTIFY_WEBHOOK_URL: 'https://hooks.example/in/tok-9f8e7d6c', NOTIFY_WEBHOOK_SECRET: 'whsec-0123456789abcdef' });
    expect(config.secrets).toContain('https://hooks.example/in/tok-9f8e7d6c');
    // As a URL object prints it, too (a bare origin gains its slash).
    expect(loadConfig({ NOTIFY_WEBHOOK_URL: 'https://hooks.example', NOTIFY_WEBHOOK_SECRET: 'whsec-0123456789abcdef' }).secrets).toContain('https://hooks.example/');
  });

  it("redacts REGISTRY_URL's credentials in every form they travel in", () => {
    const config = loadConfig({ REGISTRY_URL: 'https://fleet:pa%40ss-w0rd@registry.example/registry' });
    expect(config.secrets).toEqual(
      expect.arrayContaining(['https://fleet:pa%40ss-w0rd@registry.example/registry', 'pa%40ss-w0rd', 'pa@ss-w0rd', basic('fleet:pa@ss-w0rd')]),
    );
    const redactor = new SecretRedactor(config.secrets);
    expect(redactor.redact(`authorization: Basic ${basic('fleet:pa@ss-w0rd')}`)).toBe('authorization: Basic [REDACTED]');
    // A lone user part is the token.
    expect(loadConfig({ REGISTRY_URL: 'https://reg-token-4711@registry.example' }).secrets).toEqual(
      expect.arrayContaining(['reg-token-4711', basic('reg-token-4711:')]),
    );
  });

  it('redacts the Basic form https pushes send GITHUB_TOKEN in', () => {
    const token = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
    const config = loadConfig({ GITHUB_TOKEN: token });
    const header = `http.extraHeader=Authorization: Basic ${basic(`x-access-token:${token}`)}`;
    expect(new SecretRedactor(config.secrets).redact(header)).toBe('http.extraHeader=Authorization: Basic [REDACTED]');
  });

  it('lists each secret once', () => {
    const url = 'https://hooks.slack.com/services/T0/B0/slack-secret-part';
    const { secrets } = loadConfig({ SLACK_WEBHOOK_URL: url });
    expect(secrets.filter((value) => value === url)).toHaveLength(1);
  });

  it.each(['REGISTRY_URL', 'SMTP_URL'])('stops on a bad percent-encoding in %s with a ConfigError naming it', (name) => {
    const scheme = name === 'SMTP_URL' ? 'smtp' : 'https';
    const env: Record<string, string> = { [name]: `${scheme}://user:secret%zz-value@host.example:2525` };
    if (name === 'SMTP_URL') Object.assign(env, { NOTIFY_EMAIL_FROM: 'a@b.example', NOTIFY_EMAIL_TO: 'c@d.example' });
    const error = configError(env);
    expect(error.message).toBe(`Invalid configuration: ${name}=(value hidden): its credentials are not valid percent-encoding`);
    expect(error.message).not.toContain('secret');
  });
});

describe('plaintextCredentialWarnings', () => {
  const warnings = (env: Record<string, string>) => plaintextCredentialWarnings(loadConfig(env));

  it('warns when a token would travel over plain http to another host', () => {
    expect(warnings({ REGISTRY_URL: 'http://registry.fleet.example:8400/registry', REGISTRY_TOKEN: 'reg-token-123456' })).toEqual([
      'REGISTRY_URL is plain http to another host: REGISTRY_TOKEN travels unencrypted (use https)',
    ]);
    expect(warnings({ REGISTRY_URL: 'http://fleet:pw-123456@10.0.0.4/registry' })).toHaveLength(1);
    expect(warnings({ GITHUB_API_URL: 'http://ghe.fleet.example/api/v3', GITHUB_TOKEN: 'ghp_token_123456' })).toEqual([
      'GITHUB_API_URL is plain http to another host: GITHUB_TOKEN travels unencrypted (use https)',
    ]);
  });

  it('is quiet for https, for loopback, and when no token is sent', () => {
    expect(warnings({ REGISTRY_URL: 'https://registry.fleet.example/registry', REGISTRY_TOKEN: 'reg-token-123456' })).toEqual([]);
    expect(warnings({ REGISTRY_URL: 'http://127.0.0.1:8400/registry', REGISTRY_TOKEN: 'reg-token-123456' })).toEqual([]);
    expect(warnings({ REGISTRY_URL: 'http://[::1]:8400/registry', REGISTRY_TOKEN: 'reg-token-123456' })).toEqual([]);
    expect(warnings({ GITHUB_API_URL: 'http://localhost:9000/api/v3', GITHUB_TOKEN: 'ghp_token_123456' })).toEqual([]);
    expect(warnings({ REGISTRY_URL: 'http://registry.fleet.example/registry' })).toEqual([]);
    expect(warnings({ GITHUB_API_URL: 'http://ghe.fleet.example/api/v3' })).toEqual([]);
  });
});
