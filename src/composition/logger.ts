/** The executor's pino logger: secret values are scrubbed from every message and error. */
import pino, { type Logger } from 'pino';
import type { SecretRedactor } from '../support/secrets.js';
import type { Config } from './config.js';

export function createLogger(config: Config, redactor: SecretRedactor): Logger {
  return pino({
    level: config.LOG_LEVEL,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.apiKey', '*.secret'], censor: '[REDACTED]' },
    // Errors carry messages and stacks from child processes and libraries: scrub those too.
    serializers: { err: (error: Error) => redactor.redactDeep(pino.stdSerializers.err(error)) },
    // Secret values can hide in any message (an error from a child process); scrub them all.
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactor.redact(arg) : arg)) as Parameters<typeof method>);
      },
    },
  });
}
