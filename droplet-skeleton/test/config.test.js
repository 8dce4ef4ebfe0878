// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, withEnvFile } from '../src/config.js';
import { loadManifest } from '../src/plan.js';
import { archetypeSettings } from '../src/archetypes/index.js';
import { tempDataDir } from './support/app.js';

const manifest = loadManifest();

test('defaults come from the manifest, bind to loopback and keep records in ./data', () => {
  const config = loadConfig({});
  assert.equal(config.serviceName, manifest.name);
  assert.equal(config.dropletId, manifest.dropletId);
  assert.equal(config.port, 3000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.environment, 'development');
  assert.equal(config.logLevel, 'info');
  assert.equal(config.apiToken, undefined);
  assert.equal(config.registryUrl, undefined);
  assert.equal(config.dataDir, resolve('data'));
});

test('the environment overrides the defaults', () => {
  const config = loadConfig({
    SERVICE_NAME: 'other', SERVICE_PORT: '8080', HOST: '0.0.0.0', DROPLET_ID: '9', ENVIRONMENT: 'staging',
    LOG_LEVEL: 'debug', API_TOKEN: 'abc', REGISTRY_URL: 'https://registry.example/', BODY_LIMIT_BYTES: '2048', DATA_DIR: '/var/lib/droplet',
  });
  assert.deepEqual(config, {
    serviceName: 'other', port: 8080, host: '0.0.0.0', dropletId: 9, registryUrl: 'https://registry.example',
    environment: 'staging', logLevel: 'debug', apiToken: 'abc', bodyLimit: 2048, dataDir: '/var/lib/droplet',
    // plan.json's archetype settings (none without one): these variables set none of them.
    archetype: archetypeSettings({}),
  });
});

test('bad values are refused with a message naming the variable', () => {
  const bad = {
    SERVICE_PORT: ['abc', '70000', '-1'],
    DROPLET_ID: ['1.5', 'x'],
    ENVIRONMENT: ['prod'],
    LOG_LEVEL: ['loud'],
    REGISTRY_URL: ['not a url', 'ftp://registry.example'],
    BODY_LIMIT_BYTES: ['10'],
  };
  for (const [key, values] of Object.entries(bad)) {
    for (const value of values) {
      assert.throws(() => loadConfig({ [key]: value }), (error) => error instanceof ConfigError && error.message.startsWith(key));
    }
  }
});

test('.env in the working directory is read; a variable already set wins; no .env is fine', (t) => {
  const dir = tempDataDir(t);
  assert.deepEqual(withEnvFile({ LOG_LEVEL: 'warn' }, dir), { LOG_LEVEL: 'warn' });
  writeFileSync(join(dir, '.env'), '# local settings\nSERVICE_PORT=4100\nAPI_TOKEN="from file"\nLOG_LEVEL=debug\n');
  const config = loadConfig(withEnvFile({ LOG_LEVEL: 'warn' }, dir));
  assert.equal(config.port, 4100);
  assert.equal(config.apiToken, 'from file');
  assert.equal(config.logLevel, 'warn');
});
