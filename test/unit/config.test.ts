import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/composition/config.js';

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
    expect(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'not a url/tok-123456', NOTIFY_WEBHOOK_SECRET: 'whsec-abcdef' })).toThrow(
      /^Invalid configuration: NOTIFY_WEBHOOK_URL=\(value hidden\)/,
    );
    expect(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'not a url/tok-123456' })).not.toThrow(/tok-123456/);
  });

  it('requires a signing secret when a webhook is configured', () => {
    expect(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'https://hooks.example/x' })).toThrow(/NOTIFY_WEBHOOK_SECRET=missing: is required/);
  });

  it('collects secret values so they can be redacted', () => {
    const config = loadConfig({ API_TOKEN: 'tok-123456', NOTIFY_WEBHOOK_SECRET: 'whsec-abcdef', PUBLIC_URL: 'https://exec.example/' });
    expect(config.secrets).toEqual(['tok-123456', 'whsec-abcdef']);
    expect(config.publicUrl).toBe('https://exec.example');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ NOTIFY_WEBHOOK_URL: '', API_TOKEN: '  ' }).API_TOKEN).toBeUndefined();
  });
});
