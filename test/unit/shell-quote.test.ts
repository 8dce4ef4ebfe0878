/** The one place an argv becomes a remote command line (proven against a real sshd in test/host/ssh-shell.test.ts). */
import { describe, expect, it } from 'vitest';
import { quoteArg, quoteArgv } from '../../src/deploy/shell/quote.js';

describe('quoteArgv (the remote command line)', () => {
  it('leaves plain words bare and single-quotes everything else', () => {
    expect(quoteArgv(['node', '/opt/x/supervisor.mjs', 'ctl', 'a-b_c.d@e:f,g+h'])).toBe('node /opt/x/supervisor.mjs ctl a-b_c.d@e:f,g+h');
    expect(quoteArg('')).toBe("''");
    expect(quoteArg('a b')).toBe("'a b'");
    expect(quoteArg('$(id)')).toBe("'$(id)'");
    expect(quoteArg("it's")).toBe(`'it'\\''s'`);
    expect(quoteArg('A=b')).toBe("'A=b'");
    expect(quoteArg('~')).toBe("'~'");
    expect(quoteArg('line1\nline2')).toBe("'line1\nline2'");
  });

  it('refuses a NUL byte and an empty argv', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/);
    expect(() => quoteArgv([])).toThrow(/program/);
  });
});
