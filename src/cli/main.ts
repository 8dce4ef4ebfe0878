#!/usr/bin/env node
/**
 * `executor`: the executor's terminal client. It talks only HTTP and WebSocket to
 * EXECUTOR_URL (default http://127.0.0.1:8400) with EXECUTOR_TOKEN as a bearer token.
 * Exit codes: 0 done (or a build completed), 1 a build failed, 2 a build was cancelled or
 * rejected, 3 the API refused, 4 the executor is not reachable, 64 a usage error.
 */
import { Command, CommanderError } from 'commander';
import { CliError, EXIT, ExecutorClient, oneLine, settingsFromEnv } from './client.js';
import { registerBuildCommands } from './commands/builds.js';
import { registerDropletCommands } from './commands/droplets.js';
import { type CliContext, consoleContext } from './context.js';

export function createProgram(context: CliContext): Command {
  const program = new Command('executor')
    .description("Drive the Autonomous Executor: submit intents, watch builds, decide at gates, manage droplets.\nEnvironment: EXECUTOR_URL (default http://127.0.0.1:8400), EXECUTOR_TOKEN (the executor's API_TOKEN).")
    .showHelpAfterError('(executor --help lists the commands)')
    .exitOverride();
  registerBuildCommands(program, context);
  registerDropletCommands(program, context);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Every failure ends as one line on stderr and an exit code. */
function exitCodeFor(thrown: unknown): number {
  if (thrown instanceof CommanderError) {
    // Commander has printed its own message (or the help) already.
    return thrown.exitCode === 0 ? 0 : EXIT.usage;
  }
  if (thrown instanceof CliError) {
    process.stderr.write(`error: ${thrown.code}: ${thrown.message}\n`);
    return thrown.exitCode;
  }
  process.stderr.write(`error: INTERNAL: ${oneLine(thrown instanceof Error ? thrown.message : String(thrown))}\n`);
  return EXIT.failed;
}

async function main(): Promise<void> {
  const program = createProgram(consoleContext(new ExecutorClient(settingsFromEnv())));
  try {
    await program.parseAsync(process.argv);
    process.exitCode = 0;
  } catch (thrown) {
    process.exitCode = exitCodeFor(thrown);
  }
}

await main();
