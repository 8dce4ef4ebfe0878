/** Entry: config → executor → listen; resume unfinished builds; close gracefully on signals. */
import { ConfigError, loadConfig, loadDotEnv } from './composition/config.js';
import { createExecutor } from './composition/executor.js';
import { checkBind } from './composition/bind-guard.js';

async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  // Before anything opens: a refused bind leaves no trace but its one line.
  const bind = checkBind(config);
  if (bind.verdict === 'refused') {
    process.stderr.write(`${bind.line}\n`);
    process.exit(1);
  }
  const executor = await createExecutor(config);
  if (bind.verdict === 'insecure') {
    executor.log.warn({ host: config.HOST, port: config.PORT, risk: 'remote code execution' }, bind.warning);
    // Loudly means always: a LOG_LEVEL that hides warnings does not hide this one.
    if (!executor.log.isLevelEnabled('warn')) process.stderr.write(`${bind.warning}\n`);
  }
  await executor.app.listen({ port: config.PORT, host: config.HOST });
  executor.log.info({ url: config.publicUrl, author: config.MODEL_PROVIDER, deploy: config.DEPLOY_TARGET }, 'autonomous executor ready');
  await executor.resume();

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    executor.log.info({ signal }, 'shutting down: running builds will resume at next start');
    executor.close().then(
      () => process.exit(0),
      (error: unknown) => {
        executor.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
