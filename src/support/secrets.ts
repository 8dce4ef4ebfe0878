/**
 * Keeping secrets out of what the executor writes: `SecretRedactor` blanks the
 * executor's own secret values in text and JSON-able values (logs, events, errors);
 * `SecretScanner` finds secrets in generated files before they are committed.
 * Neither ever returns or reports a secret itself.
 */

export const REDACTED = '[REDACTED]';
/** Shorter values are too likely to occur by chance to be redacted or flagged. */
export const MIN_SECRET_LENGTH = 6;

function usableSecrets(values: Iterable<string | null | undefined>): string[] {
  const unique = new Set<string>();
  for (const value of values) {
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) unique.add(value);
  }
  // Longest first, so a secret that contains another is blanked whole.
  return [...unique].sort((a, b) => b.length - a.length);
}

/** Also the URL-encoded form: secrets end up in query strings and form bodies. */
function withEncodings(secrets: string[]): string[] {
  const encoded = secrets.map((secret) => encodeURIComponent(secret)).filter((form) => !secrets.includes(form));
  return usableSecrets([...secrets, ...encoded]);
}

export class SecretRedactor {
  private secrets: readonly string[];

  constructor(values: Iterable<string | null | undefined>) {
    this.secrets = withEncodings(usableSecrets(values));
  }

  /** Secrets the executor comes to hold while it runs (registry entry tokens): redacted from now on. */
  add(values: Iterable<string | null | undefined>): void {
    this.secrets = withEncodings(usableSecrets([...this.secrets, ...values]));
  }

  /** How many distinct values (and encodings) are redacted. */
  get size(): number {
    return this.secrets.length;
  }

  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) {
      if (result.includes(secret)) result = result.split(secret).join(REDACTED);
    }
    return result;
  }

  /** A copy of a JSON-able value with every string (keys included) redacted. */
  redactDeep<T>(value: T): T {
    return this.redactValue(value, new WeakMap()) as T;
  }

  private redactValue(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    const known = seen.get(value);
    if (known !== undefined) return known;
    if (Array.isArray(value)) {
      const copy: unknown[] = [];
      seen.set(value, copy);
      for (const item of value) copy.push(this.redactValue(item, seen));
      return copy;
    }
    if (value instanceof Error) {
      const copy = { name: value.name, message: this.redact(value.message) };
      seen.set(value, copy);
      return copy;
    }
    if (value instanceof Date) return new Date(value.getTime());
    const copy: Record<string, unknown> = {};
    seen.set(value, copy);
    for (const [key, item] of Object.entries(value)) copy[this.redact(key)] = this.redactValue(item, seen);
    return copy;
  }
}

export interface ScannedFile {
  path: string;
  content: string;
}

export interface SecretFinding {
  path: string;
  /** What was found, e.g. `executor_secret`, `private_key`, `github_token`. Never the value. */
  kind: string;
  /** 1-based line of the first occurrence. */
  line: number;
}

interface SecretPattern {
  kind: string;
  pattern: RegExp;
  /** Extra check on the match, to keep placeholders like `sk-xxxx…` from counting. */
  plausible?: (match: string) => boolean;
}

/** Real tokens are random; placeholders and examples repeat a few characters. */
function looksRandom(match: string, minDistinct = 10): boolean {
  return new Set(match).size >= minDistinct && /[0-9]/.test(match) && /[A-Za-z]/.test(match);
}

const PATTERNS: readonly SecretPattern[] = [
  {
    // Any PEM/OpenSSH private key header followed by a key body (a bare header in code is not a key).
    kind: 'private_key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----\s*(?:[A-Za-z0-9-]+: [^\n]*\n\s*)*[A-Za-z0-9+/=]{40,}/g,
  },
  {
    kind: 'aws_access_key_id',
    pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/g,
    // AWS's documentation example key is everywhere and grants nothing.
    plausible: (match) => !match.endsWith('EXAMPLE'),
  },
  { kind: 'anthropic_api_key', pattern: /\bsk-ant-[A-Za-z0-9_-]{32,}/g, plausible: (match) => looksRandom(match) },
  {
    kind: 'openai_api_key',
    pattern: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}/g,
    plausible: (match) => looksRandom(match),
  },
  { kind: 'github_token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/g, plausible: (match) => looksRandom(match) },
  { kind: 'github_token', pattern: /\bgithub_pat_[A-Za-z0-9_]{60,}\b/g, plausible: (match) => looksRandom(match) },
  { kind: 'slack_token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{20,}/g, plausible: (match) => looksRandom(match, 8) },
  {
    kind: 'slack_webhook_url',
    pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{16,}/g,
    plausible: (match) => looksRandom(match.slice(match.lastIndexOf('/') + 1), 8),
  },
];

function lineOf(content: string, index: number): number {
  let line = 1;
  for (let at = content.indexOf('\n'); at !== -1 && at < index; at = content.indexOf('\n', at + 1)) line += 1;
  return line;
}

export class SecretScanner {
  private readonly secrets: readonly string[];

  /** `values`: the executor's own secret values (API keys, tokens, webhook secrets). */
  constructor(values: Iterable<string | null | undefined> = []) {
    this.secrets = usableSecrets(values);
  }

  /** One finding per file and kind, in file order. */
  scan(files: readonly ScannedFile[]): SecretFinding[] {
    const findings: SecretFinding[] = [];
    for (const file of files) {
      const kinds = new Set<string>();
      const report = (kind: string, index: number) => {
        if (kinds.has(kind)) return;
        kinds.add(kind);
        findings.push({ path: file.path, kind, line: lineOf(file.content, index) });
      };
      for (const secret of this.secrets) {
        const index = file.content.indexOf(secret);
        if (index !== -1) report('executor_secret', index);
      }
      for (const { kind, pattern, plausible } of PATTERNS) {
        for (const match of file.content.matchAll(pattern)) {
          if (!plausible || plausible(match[0])) {
            report(kind, match.index);
            break;
          }
        }
      }
    }
    return findings;
  }
}
