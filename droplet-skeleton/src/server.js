// @ts-check
// Starts the droplet: environment (and .env) → config → app → listen; stops cleanly on SIGTERM/SIGINT.
import { buildApp } from './app.js';
import { loadConfig, withEnvFile } from './config.js';
import { StartupError } from './errors.js';

const SHUTDOWN_TIMEOUT_MS = 10000;

function startOrExit() {
  try {
    const config = loadConfig(withEnvFile(process.env));
    return { config, app: buildApp(config) };
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    // The logger needs the config, so this one line is written by hand, in the same JSON shape.
    process.stderr.write(JSON.stringify({ level: 60, time: Date.now(), msg: error.message }) + '\n');
    process.exit(1);
  }
}

const { config, app } = startOrExit();
let closing = false;

/** @param {string} signal */
async function shutdown(signal) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    app.log.error('shutdown timed out; exiting');
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  force.unref();
  try {
    // Waits for in-flight requests, whose records are on disk before they are answered.
    await app.close();
    process.exit(0);
  } catch (error) {
    app.log.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  app.log.fatal({ err: error }, 'could not start listening');
  process.exit(1);
}
