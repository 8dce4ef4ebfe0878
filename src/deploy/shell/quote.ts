/**
 * The one place an argv becomes a command line for a remote POSIX shell (sshd runs every
 * command through the user's login shell). Each element is single-quoted, so nothing in
 * it is expanded: `$(…)`, backquotes, globs, `;`, newlines all arrive verbatim.
 */

/**
 * Characters that mean nothing to a POSIX shell (nor to zsh), left bare so logged commands
 * stay readable. `=` is not among them: a bare `A=b` first word would be an assignment.
 */
const PLAIN = /^[A-Za-z0-9_@+:,./-]+$/;

export function quoteArg(arg: string): string {
  // A NUL cannot be part of an argument (C strings end there): refuse rather than truncate.
  if (arg.includes('\0')) throw new Error('An argument for a remote command contains a NUL byte.');
  if (PLAIN.test(arg)) return arg;
  // Inside single quotes only `'` itself is special: close, add an escaped quote, reopen.
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function quoteArgv(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('A remote command needs at least a program name.');
  return argv.map(quoteArg).join(' ');
}
