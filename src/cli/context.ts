/** What every command gets: the client, where to print, and how a build's end becomes the exit code. */
import { CliError, EXIT, type ExecutorClient } from './client.js';
import type { WatchState } from './watch-state.js';

export interface CliContext {
  client: ExecutorClient;
  /** One line for people, on stdout. */
  print: (line: string) => void;
  /** The API's answer as parseable JSON, on stdout. */
  printJson: (value: unknown) => void;
  /** stdin and stdout are a terminal: watch by default and ask at gates. */
  interactive: boolean;
}

export function consoleContext(client: ExecutorClient): CliContext {
  return {
    client,
    print: (line) => process.stdout.write(`${line}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
  };
}

/** 0 for a completed build; a failed or cancelled one throws, so its reason is the error line. */
export function endOf(state: Pick<WatchState, 'buildId' | 'status' | 'error'>): void {
  if (state.status === 'completed') return;
  const code = state.error?.code ?? (state.status === 'cancelled' ? 'CANCELLED' : 'FAILED');
  const message = `build ${state.buildId} ${state.status ?? 'ended'}: ${state.error?.message ?? 'no reason given'}`;
  throw new CliError(code, message, state.status === 'cancelled' ? EXIT.cancelled : EXIT.failed);
}
