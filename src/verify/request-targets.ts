/**
 * Which HTTP paths a test file requests, read statically from its tokens (see
 * js-tokens.ts). A path counts when a string or template literal is a request target
 * for it: `'/state'`, `` `${base}/state` ``, `'http://127.0.0.1:3000/state?x=1'`. It does
 * not count in a comment, in a test's title (`test('GET /state works', …)`: titles are
 * prose and have spaces), or anywhere inside a test that is switched off:
 * `test.skip(…)`, `it.todo(…)`, `xit(…)`, `describe.skip(…)`, `test('…', { skip: true }, …)`.
 */
import { TEMPLATE_HOLE, tokenize, type Token } from './js-tokens.js';

/** Functions that declare tests or suites in node:test, vitest, jest and mocha (also as `t.test`). */
const TEST_FUNCTIONS = new Set(['test', 'it', 'describe', 'suite', 'context', 'specify']);
/** Jest/mocha spellings of a disabled test or suite. */
const DISABLED_FUNCTIONS = new Set(['xit', 'xtest', 'xdescribe', 'xcontext', 'xspecify']);
/** `test.skip`, `it.todo`, `describe.skip`, `test.concurrent.skip`… */
const DISABLING_MODIFIERS = new Set(['skip', 'todo']);
/** node:test options that switch a test off (`{ skip: true }`, `{ todo: 'later' }`). */
const DISABLING_OPTIONS = new Set(['skip', 'todo']);
const OPENERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };

const isPunct = (token: Token | undefined, text: string) => token?.kind === 'punct' && token.text === text;

/** Index of the bracket closing the one at `open`, for every opener (unbalanced ones close at the end). */
function matchingBrackets(tokens: readonly Token[]): number[] {
  const match = new Array<number>(tokens.length).fill(tokens.length - 1);
  const stack: number[] = [];
  tokens.forEach((token, index) => {
    if (token.kind !== 'punct') return;
    if (OPENERS[token.text]) stack.push(index);
    else if (token.text === ')' || token.text === ']' || token.text === '}') {
      // Pop to the opener this closes; a stray closer is ignored.
      let at = stack.length - 1;
      while (at >= 0 && OPENERS[tokens[stack[at]!]!.text] !== token.text) at -= 1;
      if (at === -1) return;
      match[stack[at]!] = index;
      stack.length = at;
    }
  });
  return match;
}

/** Whether an argument between `open` and `close` is an object literal with a truthy `skip`/`todo`. */
function hasDisablingOption(tokens: readonly Token[], match: readonly number[], open: number, close: number): boolean {
  for (let index = open + 1; index < close; index += 1) {
    const token = tokens[index]!;
    const argumentStart = isPunct(tokens[index - 1], '(') || isPunct(tokens[index - 1], ',');
    if (isPunct(token, '{') && argumentStart) {
      const end = match[index]!;
      let depth = 0;
      for (let inner = index + 1; inner < end; inner += 1) {
        const entry = tokens[inner]!;
        if (entry.kind === 'punct' && OPENERS[entry.text]) depth += 1;
        else if (entry.kind === 'punct' && [')', ']', '}'].includes(entry.text)) depth -= 1;
        else if (depth === 0 && (entry.kind === 'identifier' || entry.kind === 'string') && DISABLING_OPTIONS.has(entry.text) && isPunct(tokens[inner + 1], ':')) {
          const value = tokens[inner + 2];
          const falsy = value !== undefined && ((value.kind === 'identifier' && ['false', 'undefined', 'null'].includes(value.text)) || (value.kind === 'number' && value.text === '0'));
          if (!falsy) return true;
        }
      }
    }
    if (token.kind === 'punct' && OPENERS[token.text]) index = match[index]!;
  }
  return false;
}

/** Token indices that do not count: switched-off tests (whole call) and test titles. */
function excludedTokens(tokens: readonly Token[]): Set<number> {
  const match = matchingBrackets(tokens);
  const excluded = new Set<number>();
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (token.kind !== 'identifier' || isPunct(tokens[index - 1], '.')) continue;
    const names = [token.text];
    let last = index;
    while (isPunct(tokens[last + 1], '.') && tokens[last + 2]?.kind === 'identifier') {
      names.push(tokens[last + 2]!.text);
      last += 2;
    }
    const isTest = names.some((name) => TEST_FUNCTIONS.has(name)) || DISABLED_FUNCTIONS.has(names[0]!);
    const open = last + 1;
    if (!isTest || !isPunct(tokens[open], '(')) continue;
    const close = match[open]!;
    const disabled = DISABLED_FUNCTIONS.has(names[0]!)
      || names.some((name) => DISABLING_MODIFIERS.has(name))
      || hasDisablingOption(tokens, match, open, close);
    if (disabled) {
      for (let at = index; at <= close; at += 1) excluded.add(at);
      index = close;
    } else if (['string', 'template'].includes(tokens[open + 1]?.kind ?? '') && isPunct(tokens[open + 2], ',')) {
      excluded.add(open + 1);
    }
  }
  return excluded;
}

/**
 * The path a literal targets, or null when it is not a request target: no whitespace;
 * scheme, host and leading `${…}` holes dropped; query and fragment dropped.
 */
export function targetPath(literal: string): string | null {
  const value = literal.trim();
  if (value === '' || /\s/.test(value)) return null;
  let rest = value.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  rest = rest.replace(new RegExp(`^${TEMPLATE_HOLE}+`), '');
  rest = rest.replace(/[?#].*$/s, '');
  if (rest.length > 1) rest = rest.replace(/\/+$/, '');
  return rest.startsWith('/') && !rest.includes(TEMPLATE_HOLE) ? rest : null;
}

/** Every path the source requests, outside comments, titles and switched-off tests. */
export function requestedPaths(source: string): Set<string> {
  const tokens = tokenize(source);
  const excluded = excludedTokens(tokens);
  const paths = new Set<string>();
  tokens.forEach((token, index) => {
    if ((token.kind !== 'string' && token.kind !== 'template') || excluded.has(index)) return;
    const path = targetPath(token.text);
    if (path !== null) paths.add(path);
  });
  return paths;
}
