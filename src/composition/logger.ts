/** The executor's pino logger: secret values are scrubbed from every line it writes. */
import pino, { type DestinationStream, type Logger } from 'pino';
import { SecretRedactor } from '../support/secrets.js';
import type { Config } from './config.js';

/**
 * Scrubs a finished JSON line: every field at any depth, child bindings and what
 * serializers made of a value (a request URL, an error's cause) included. One pass of
 * `includes` per secret over the line, cheaper than copying each logged object; a
 * secret with quotes, backslashes or control characters is also matched as JSON escapes it.
 */
function lineRedactor(config: Config, redactor: SecretRedactor): ((line: string) => string) | undefined {
  if (redactor.size === 0) return undefined;
  const escapedForms = config.secrets.map((secret) => JSON.stringify(secret).slice(1, -1)).filter((form, index) => form !== config.secrets[index]);
  const escaped = escapedForms.length > 0 ? new SecretRedactor(escapedForms) : null;
  return (line) => {
    const scrubbed = redactor.redact(line);
    return escaped ? escaped.redact(scrubbed) : scrubbed;
  };
}

/** `destination`: where lines go (stdout by default; tests read them). */
export function createLogger(config: Config, redactor: SecretRedactor, destination?: DestinationStream): Logger {
  const streamWrite = lineRedactor(config, redactor);
  const options: pino.LoggerOptions = {
    level: config.LOG_LEVEL,
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.apiKey', '*.secret'], censor: '[REDACTED]' },
    // Errors carry messages and stacks from child processes and libraries: scrub those too.
    serializers: { err: (error: Error) => redactor.redactDeep(pino.stdSerializers.err(error)) },
    hooks: {
      // Secret values can hide in any message (an error from a child process); scrub them before they are escaped into JSON.
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactor.redact(arg) : arg)) as Parameters<typeof method>);
      },
      // …and in any field of a logged object, at any depth.
      ...(streamWrite ? { streamWrite } : {}),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
