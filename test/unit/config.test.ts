import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { type Config, ConfigError, configSchema, loadConfig } from '../../src/composition/config.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('config', () => {
  it('has embedded defaults for a fresh machine', () => {
    const config = loadConfig({}, '/srv/executor');
    expect(config.PORT).toBe(8400);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.dataDir).toBe('/srv/executor/data');
    expect(config.publicUrl).toBe('http://127.0.0.1:8400');
    expect(config.modelProvider).toBe('offline');
    expect(config.SANDBOX).toBe('auto');
    expect(config.MAX_BUILD_ITERATIONS).toBe(10);
    expect(config.MAX_CONCURRENT_BUILDS).toBe(2);
    expect(config.DEPLOY_TARGET).toBe('local');
    expect(config.secrets).toEqual([]);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['MAX_BUILD_ITERATIONS', '0'],
    ['DEPLOY_TARGET', 'mars'],
    ['MODEL_PROVIDER', 'guesswork'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with one line naming the variable', (name, value) => {
    let caught: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as Error).message;
    expect(message).toContain(name);
    expect(message).toContain(JSON.stringify(value));
    expect(message.split('\n')).toHaveLength(1);
  });

  it('names a bad URL or secret without echoing it', () => {
    expect(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'not a url/tok-123456', NOTIFY_WEBHOOK_SECRET: 'whsec-abcdef-0123456' })).toThrow(
      /^Invalid configuration: NOTIFY_WEBHOOK_URL=\(value hidden\)/,
    );
    expect(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'not a url/tok-123456' })).not.toThrow(/tok-123456/);
  });

  it('requires a signing secret when a webhook is configured', () => {
    expect(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'https://hooks.example/x' })).toThrow(/NOTIFY_WEBHOOK_SECRET=missing: is required/);
  });

  it('refuses a REGISTRY_TOKEN equal to DROPLET_API_TOKEN (every droplet could write the registry), without echoing it', () => {
    const shared = 'fleet-shared-token-0123';
    expect(() => loadConfig({ REGISTRY_TOKEN: shared, DROPLET_API_TOKEN: shared })).toThrow(/REGISTRY_TOKEN=\(value hidden\): must differ from DROPLET_API_TOKEN/);
    expect(() => loadConfig({ REGISTRY_TOKEN: shared, DROPLET_API_TOKEN: shared })).not.toThrow(new RegExp(shared));
    expect(loadConfig({ REGISTRY_TOKEN: shared, API_TOKEN: shared }).REGISTRY_TOKEN).toBe(shared);
  });

  it('collects secret values so they can be redacted', () => {
    const config = loadConfig({ API_TOKEN: 'tok-123456', NOTIFY_WEBHOOK_SECRET: 'whsec-abcdef-0123456', PUBLIC_URL: 'https://exec.example/' });
    expect(config.secrets).toEqual(['tok-123456', 'whsec-abcdef-0123456']);
    expect(config.publicUrl).toBe('https://exec.example');
  });

  it('reads the announcement, approval-link, registry and publishing settings', () => {
    const config = loadConfig({
      ...{ APPROVAL_LINK_TTL: '30m', NOTIFY_SLACK_EVENTS: 'failed, waiting_approval', NOTIFY_CHANNELS: 'log,slack' },
      ...{ SMTP_URL: 'smtp://mailer@127.0.0.1:2525', NOTIFY_EMAIL_FROM: 'executor@example.com', NOTIFY_EMAIL_TO: 'a@example.com, b@example.com' },
    });
    expect(config.APPROVAL_LINK_TTL).toBe(1800);
    expect(loadConfig({ APPROVAL_LINK_TTL: '7d' }).APPROVAL_LINK_TTL).toBe(7 * 86_400);
    expect(loadConfig({}).APPROVAL_LINK_TTL).toBe(86_400);
    expect(config.NOTIFY_SLACK_EVENTS).toEqual(['failed', 'waiting_approval']);
    expect(config.NOTIFY_WEBHOOK_EVENTS).toEqual(['completed', 'failed', 'waiting_approval']);
    expect(config.NOTIFY_CHANNELS).toEqual(['log', 'slack']);
    expect(config.NOTIFY_EMAIL_TO).toEqual(['a@example.com', 'b@example.com']);
    expect(config.REGISTRY_HEARTBEAT_SECONDS).toBeLessThan(config.REGISTRY_TTL_SECONDS);
  });

  it.each([
    [{ APPROVAL_LINK_TTL: '5' }, 'APPROVAL_LINK_TTL'],
    [{ APPROVAL_LINK_TTL: '31d' }, 'APPROVAL_LINK_TTL'],
    [{ NOTIFY_EMAIL_EVENTS: 'completed,exploded' }, 'NOTIFY_EMAIL_EVENTS'],
    [{ GIT_REMOTE_URL_TEMPLATE: '/srv/git/droplet.git' }, 'GIT_REMOTE_URL_TEMPLATE'],
    [{ SMTP_URL: 'smtp://127.0.0.1:25' }, 'NOTIFY_EMAIL_FROM'],
    [{ GITHUB_OWNER: 'fleet' }, 'GITHUB_TOKEN'],
    [{ REGISTRY_HEARTBEAT_SECONDS: '60', REGISTRY_TTL_SECONDS: '60' }, 'REGISTRY_TTL_SECONDS'],
  ])('refuses %o naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${name}=`));
  });

  it('treats empty values as unset, for every variable', () => {
    expect(loadConfig({ NOTIFY_WEBHOOK_URL: '', API_TOKEN: '  ' }).API_TOKEN).toBeUndefined();
    // Numbers too: an empty value is neither 0 nor a refusal.
    const config = loadConfig({ MAX_BUILD_COST_USD: '', PORT: '', SANDBOX_MEMORY_MB: ' ', SANDBOX: '' });
    expect(config.MAX_BUILD_COST_USD).toBeUndefined();
    expect(config.PORT).toBe(8400);
    expect(config.SANDBOX_MEMORY_MB).toBe(2048);
    expect(config.SANDBOX).toBe('auto');
  });

  it('starts from a copy of .env.example as it is, with the embedded defaults', () => {
    const example = parseEnv(readFileSync(join(ROOT, '.env.example'), 'utf8')) as NodeJS.ProcessEnv;
    const fromExample = loadConfig(example, '/srv/executor');
    const defaults = loadConfig({}, '/srv/executor');
    for (const name of Object.keys(example)) expect.soft(fromExample[name as keyof Config], name).toEqual(defaults[name as keyof Config]);
  });

  it('documents every setting of the schema in .env.example and in the README table', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
    const names = Object.keys(configSchema.shape);
    expect(names.filter((name) => !new RegExp(`^(# )?${name}=`, 'm').test(example))).toEqual([]);
    expect(names.filter((name) => !table.includes(`\`${name}\``))).toEqual([]);
    // And nothing documented that the schema does not read.
    const listed = [...example.matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect(listed.filter((name) => !names.includes(name))).toEqual([]);
  });
});
