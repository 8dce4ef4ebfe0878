/**
 * A small JavaScript/TypeScript tokenizer for reading a droplet's test files without
 * running them: it knows comments, strings, template literals (with nested `${…}`
 * code), regular expressions and brackets, which is all the endpoint-coverage scan
 * needs. It never throws: text it cannot make sense of becomes punctuation.
 */

export type TokenKind = 'identifier' | 'string' | 'template' | 'regex' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Identifier name, punctuation, or a string's value (escapes resolved loosely). */
  text: string;
}

/** Stands for a `${…}` hole in a template literal's value. */
export const TEMPLATE_HOLE = '\u0000';

/** After these keywords a `/` starts a regular expression, not a division. */
const REGEX_AFTER_KEYWORDS = new Set([
  'return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await',
]);
const IDENTIFIER_START = /[A-Za-z_$\u0080-\uffff]/;
const IDENTIFIER_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0' };

class Lexer {
  private at = 0;
  readonly tokens: Token[] = [];

  constructor(private readonly source: string) {}

  /** Tokens until the end, or until the `}` closing a template hole when `inHole`. */
  run(inHole = false): void {
    let depth = 0;
    const { source } = this;
    while (this.at < source.length) {
      const char = source[this.at]!;
      const next = source[this.at + 1];
      if (/\s/.test(char)) {
        this.at += 1;
      } else if (char === '/' && next === '/') {
        const end = source.indexOf('\n', this.at);
        this.at = end === -1 ? source.length : end;
      } else if (char === '/' && next === '*') {
        const end = source.indexOf('*/', this.at + 2);
        this.at = end === -1 ? source.length : end + 2;
      } else if (char === '#' && next === '!' && this.at === 0) {
        const end = source.indexOf('\n');
        this.at = end === -1 ? source.length : end;
      } else if (char === '"' || char === "'") {
        this.push('string', this.quoted(char));
      } else if (char === '`') {
        this.template();
      } else if (char === '/' && this.regexAllowed() && this.regex()) {
        // pushed by regex()
      } else if (IDENTIFIER_START.test(char)) {
        const start = this.at;
        while (this.at < source.length && IDENTIFIER_PART.test(source[this.at]!)) this.at += 1;
        this.push('identifier', source.slice(start, this.at));
      } else if (/[0-9]/.test(char) || (char === '.' && next !== undefined && /[0-9]/.test(next))) {
        const start = this.at;
        while (this.at < source.length && /[0-9A-Za-z_.]/.test(source[this.at]!)) this.at += 1;
        this.push('number', source.slice(start, this.at));
      } else {
        if (inHole && char === '}' && depth === 0) {
          this.at += 1;
          return;
        }
        if (char === '{') depth += 1;
        if (char === '}') depth -= 1;
        this.push('punct', char);
        this.at += 1;
      }
    }
  }

  private push(kind: TokenKind, text: string): void {
    this.tokens.push({ kind, text });
  }

  /** A '…' or "…" string from its opening quote; an unterminated one ends at the line. */
  private quoted(quote: string): string {
    const { source } = this;
    let value = '';
    this.at += 1;
    while (this.at < source.length) {
      const char = source[this.at]!;
      if (char === quote) {
        this.at += 1;
        break;
      }
      if (char === '\n') break;
      if (char === '\\') {
        value += this.escape();
        continue;
      }
      value += char;
      this.at += 1;
    }
    return value;
  }

  private escape(): string {
    const char = this.source[this.at + 1] ?? '';
    this.at += 2;
    if (char === '\r' && this.source[this.at] === '\n') this.at += 1;
    if (char === '\n' || char === '\r') return '';
    return SIMPLE_ESCAPES[char] ?? char;
  }

  /** A template literal: its static parts joined by TEMPLATE_HOLE, then the tokens of its holes. */
  private template(): void {
    const { source } = this;
    let value = '';
    const holes: Token[][] = [];
    this.at += 1;
    while (this.at < source.length) {
      const char = source[this.at]!;
      if (char === '`') {
        this.at += 1;
        break;
      }
      if (char === '\\') {
        value += this.escape();
        continue;
      }
      if (char === '$' && source[this.at + 1] === '{') {
        this.at += 2;
        const inner = new Lexer(source);
        inner.at = this.at;
        inner.run(true);
        this.at = inner.at;
        holes.push(inner.tokens);
        value += TEMPLATE_HOLE;
        continue;
      }
      value += char;
      this.at += 1;
    }
    this.push('template', value);
    for (const hole of holes) this.tokens.push(...hole);
  }

  private regexAllowed(): boolean {
    const previous = this.tokens[this.tokens.length - 1];
    if (!previous) return true;
    if (previous.kind === 'identifier') return REGEX_AFTER_KEYWORDS.has(previous.text);
    if (previous.kind === 'punct') return previous.text !== ')' && previous.text !== ']';
    return false;
  }

  /** A regular expression literal; false (nothing consumed) when the line ends first: it was a division. */
  private regex(): boolean {
    const { source } = this;
    let at = this.at + 1;
    let inClass = false;
    while (at < source.length) {
      const char = source[at]!;
      if (char === '\n') return false;
      if (char === '\\') at += 2;
      else {
        if (char === '[') inClass = true;
        else if (char === ']') inClass = false;
        else if (char === '/' && !inClass) break;
        at += 1;
      }
    }
    if (at >= source.length) return false;
    at += 1;
    while (at < source.length && /[a-z]/i.test(source[at]!)) at += 1;
    this.push('regex', source.slice(this.at, at));
    this.at = at;
    return true;
  }
}

export function tokenize(source: string): Token[] {
  const lexer = new Lexer(source);
  lexer.run();
  return lexer.tokens;
}
