/** Commands on builds: build, status, events, watch, approve, reject, cancel, retry, list. */
import { type Command, Option } from 'commander';
import { APPROVAL_MODES, BUILD_STATUSES } from '../../domain/build.js';
import type { BuildEvent } from '../../domain/events.js';
import type { BuildSummary, BuildView } from '../../domain/status.js';
import { buildPath } from '../client.js';
import { type CliContext, endOf } from '../context.js';
import { eventLine, statusText, summaryLine, summaryText } from '../format.js';
import { integerFrom, positiveUsd } from '../options.js';
import { followBuild } from '../stream.js';
import { watchBuild } from '../watch-view.js';

interface Accepted {
  build_id: string;
  status: string;
  droplet_id: number;
  droplet_name: string;
  stream_url: string;
  status_url: string;
}

interface BuildOptions {
  mode?: string;
  name?: string;
  id?: number;
  deploy: boolean;
  maxCost?: number;
  notify?: string[];
  deployHost?: string;
  watch?: boolean;
  json?: boolean;
}

/** `--notify log,webhook` (or the option repeated): the channel names, as the API takes them. */
const channelList = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((name) => name.trim()).filter(Boolean)];

const jsonOption = () => new Option('--json', "print the API's JSON answer");

/** `--json` alone prints the answer; otherwise watch when asked, or by default on a terminal. */
function shouldWatch(context: CliContext, options: { watch?: boolean; json?: boolean }): boolean {
  return options.watch ?? (context.interactive && !options.json);
}

/** Follows a build to its end: the live view, or with `--json` each stream message as one JSON line. */
async function follow(context: CliContext, buildId: string, json: boolean | undefined): Promise<void> {
  if (!json) {
    endOf(await watchBuild(context.client, buildId, { interactive: context.interactive, print: context.print }));
    return;
  }
  await followBuild(context.client, buildId, { onMessage: (message) => process.stdout.write(`${JSON.stringify(message)}\n`) });
  const view = await context.client.request<BuildView>(buildPath(buildId, '/status'));
  endOf({ buildId, status: view.status, error: view.error });
}

async function submit(context: CliContext, intent: string, options: BuildOptions): Promise<void> {
  const body = {
    architect_intent: intent,
    ...(options.mode !== undefined && { approval_mode: options.mode }),
    ...(options.name !== undefined && { droplet_name: options.name }),
    ...(options.id !== undefined && { droplet_id: options.id }),
    ...(!options.deploy && { auto_deploy: false }),
    ...(options.maxCost !== undefined && { max_cost_usd: options.maxCost }),
    ...(options.notify !== undefined && { notify_channels: options.notify }),
    ...(options.deployHost !== undefined && { deploy_host: options.deployHost }),
  };
  const accepted = await context.client.request<Accepted>('/executor/build-droplet', { body });
  const watch = shouldWatch(context, options);
  if (options.json && !watch) return context.printJson(accepted);
  if (!options.json) context.print(`build ${accepted.build_id} accepted: droplet ${accepted.droplet_name} (#${accepted.droplet_id})`);
  if (watch) await follow(context, accepted.build_id, options.json);
  else context.print(`follow it with \`executor watch ${accepted.build_id}\``);
}

function printSummary(context: CliContext, summary: BuildSummary, json: boolean | undefined): void {
  if (json) context.printJson(summary);
  else for (const line of summaryText(summary)) context.print(line);
}

function registerDecisions(program: Command, context: CliContext): void {
  const decide = async (id: string, approved: boolean, feedback: string | undefined, json: boolean | undefined) => {
    const body = { approved, ...(feedback !== undefined && { feedback }) };
    printSummary(context, await context.client.request<BuildSummary>(buildPath(id, '/approve'), { body }), json);
  };
  program.command('approve').description('approve the gate a build waits at').argument('<id>').option('--feedback <text>', 'a note for the record').addOption(jsonOption())
    .action((id: string, options: { feedback?: string; json?: boolean }) => decide(id, true, options.feedback, options.json));
  program.command('reject').description('reject the gate a build waits at (cancels the build)').argument('<id>').requiredOption('--feedback <text>', 'why').addOption(jsonOption())
    .action((id: string, options: { feedback: string; json?: boolean }) => decide(id, false, options.feedback, options.json));
  program.command('cancel').description('cancel a build').argument('<id>').addOption(jsonOption())
    .action(async (id: string, options: { json?: boolean }) => printSummary(context, await context.client.request<BuildSummary>(buildPath(id), { method: 'DELETE' }), options.json));
  program.command('retry').description('re-run a failed or cancelled build').argument('<id>')
    .option('--from-step <n>', 'the step to start from (1-8)', integerFrom(1, 8)).option('--max-cost <usd>', 'a new cost cap, USD', positiveUsd)
    .option('--watch', 'follow it live').option('--no-watch', 'do not follow it').addOption(jsonOption())
    .action(async (id: string, options: { fromStep?: number; maxCost?: number; watch?: boolean; json?: boolean }) => {
      const query = { from_step: options.fromStep, max_cost_usd: options.maxCost };
      const summary = await context.client.request<BuildSummary>(buildPath(id, '/retry'), { method: 'POST', query });
      const watch = shouldWatch(context, options);
      if (!(options.json && watch)) printSummary(context, summary, options.json);
      if (watch) await follow(context, id, options.json);
    });
}

function registerReads(program: Command, context: CliContext): void {
  program.command('status').description("a build's status: steps, cost, gate, error").argument('<id>').addOption(jsonOption())
    .action(async (id: string, options: { json?: boolean }) => {
      const view = await context.client.request<BuildView>(buildPath(id, '/status'));
      if (options.json) context.printJson(view);
      else for (const line of statusText(view)) context.print(line);
    });
  program.command('events').description("a build's journal").argument('<id>').option('--after <seq>', 'only events after this seq', integerFrom(0), 0).addOption(jsonOption())
    .action(async (id: string, options: { after: number; json?: boolean }) => {
      const events = await context.client.request<BuildEvent[]>(buildPath(id, '/events'), { query: { after: options.after } });
      if (options.json) context.printJson(events);
      else for (const event of events) context.print(eventLine(event));
    });
  program.command('watch').description('follow a build live until it ends').argument('<id>').option('--json', 'print each stream message as one JSON line')
    .action((id: string, options: { json?: boolean }) => follow(context, id, options.json));
  program.command('list').description('builds, newest first').addOption(new Option('--status <status>', 'only builds with this status').choices(BUILD_STATUSES))
    .option('--limit <n>', 'at most this many (1-200)', integerFrom(1, 200)).addOption(jsonOption())
    .action(async (options: { status?: string; limit?: number; json?: boolean }) => {
      const builds = await context.client.request<BuildSummary[]>('/executor/builds', { query: { status: options.status, limit: options.limit } });
      if (options.json) context.printJson(builds);
      else if (builds.length === 0) context.print('no builds');
      else for (const build of builds) context.print(summaryLine(build));
    });
}

export function registerBuildCommands(program: Command, context: CliContext): void {
  program.command('build').description('submit an intent; follows the build live on a terminal').argument('<intent>', "the architect's intent, in words")
    .addOption(new Option('--mode <mode>', 'approval mode (default: final)').choices(APPROVAL_MODES))
    .option('--name <name>', 'the droplet name (kebab-case)').option('--id <n>', 'the droplet id', integerFrom(1))
    .option('--no-deploy', 'verify but do not deploy').option('--max-cost <usd>', "a cap on this build's model spending, USD", positiveUsd)
    .option('--notify <channels>', 'announce it on these channels (comma-separated: log,webhook,slack,email)', channelList)
    .option('--deploy-host <host>', 'deploy to this DEPLOY_HOSTS entry (user@host:port)')
    .option('--watch', 'follow the build live (default on a terminal)').option('--no-watch', 'print the answer and return').addOption(jsonOption())
    .action((intent: string, options: BuildOptions) => submit(context, intent, options));
  registerReads(program, context);
  registerDecisions(program, context);
}
