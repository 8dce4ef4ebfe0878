/**
 * The executor's pino logger: secret values are scrubbed from every line it writes.
 * JSON lines for machines; at a terminal (or LOG_FORMAT=pretty) one human line each,
 * rendered from the already scrubbed JSON line, so both formats share one scrubbing path.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { isColorSupported, prettyFactory } from 'pino-pretty';
import { SecretRedactor } from '../support/secrets.js';
import type { Config } from './config.js';

export type LogFormat = 'json' | 'pretty';

/** `auto` is pretty only when a person reads the output: stdout is a terminal. */
export function logFormatOf(setting: Config['LOG_FORMAT'], isTty: boolean): LogFormat {
  if (setting === 'auto') return isTty ? 'pretty' : 'json';
  return setting;
}

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

/** The fields of the one line written per request (src/http/request-log.ts). */
interface RequestLine {
  msg: 'request';
  method: string;
  url: string;
  status_code: number;
  duration_ms: number;
}

function isRequestLine(entry: Record<string, unknown>): entry is Record<string, unknown> & RequestLine {
  return entry.msg === 'request' && typeof entry.method === 'string' && typeof entry.status_code === 'number';
}

/**
 * Turns one JSON log line into one human line: a request reads
 * `[12:00:01.234] INFO: GET /health 200 0.52 ms {"reqId":"req-1"}` (a refused one ends with its error
 * code); other lines keep
 * their fields as JSON on the same line (an error's stack follows it).
 */
export function prettyLines(options: { colorize: boolean }): (line: string) => string {
  const render = prettyFactory({ colorize: options.colorize, singleLine: true, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' });
  return (line) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return line;
    }
    if (!isRequestLine(entry)) return render(entry);
    const { method, url, status_code: status, duration_ms: duration, error_code: code, msg: _msg, ...rest } = entry;
    return render({ ...rest, msg: `${method} ${url} ${status} ${duration} ms${typeof code === 'string' ? ` ${code}` : ''}` });
  };
}

/** Where pretty lines go: `destination`, or stdout. Scrubbed once more after rendering, for safety's sake. */
function prettyDestination(redactor: SecretRedactor, colorize: boolean, destination?: DestinationStream): DestinationStream {
  const render = prettyLines({ colorize });
  const out = destination ?? process.stdout;
  return { write: (line: string) => void out.write(redactor.redact(render(line))) };
}

/**
 * `destination`: where lines go (stdout by default; tests read them). `isTty`: whether a
 * person reads them (decides LOG_FORMAT=auto).
 */
export function createLogger(config: Config, redactor: SecretRedactor, destination?: DestinationStream, isTty = process.stdout.isTTY === true): Logger {
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
  if (logFormatOf(config.LOG_FORMAT, isTty) === 'pretty') {
    return pino(options, prettyDestination(redactor, destination ? false : isTty && isColorSupported, destination));
  }
  return destination ? pino(options, destination) : pino(options);
}
