/** Commands on deployed droplets: droplets, droplet, rollback, logs. */
import { type Command, Option } from 'commander';
import { dropletPath } from '../client.js';
import type { CliContext } from '../context.js';
import { integerFrom } from '../options.js';

/** The fields of `GET /executor/droplets` entries the plain output shows. */
interface DropletEntry {
  droplet_id: number;
  name: string;
  url: string | null;
  health: { status: string };
  deployment: { release: string; host: string | null } | null;
  releases: { release: string; status: string; deployed_at: string | null }[];
}

interface DropletDetail extends DropletEntry {
  events: { seq: number; type: string; at: string }[];
}

interface Action {
  action: string;
  release: string;
  url: string | null;
  commit: string | null;
}

const jsonOption = () => new Option('--json', "print the API's JSON answer");

function dropletLine(droplet: DropletEntry): string {
  return `${droplet.name} (#${droplet.droplet_id})  ${droplet.health.status}  ${droplet.url ?? 'no url'}  ${droplet.deployment ? `release ${droplet.deployment.release}` : 'not deployed'}`;
}

function dropletText(droplet: DropletDetail): string[] {
  return [
    dropletLine(droplet),
    ...droplet.releases.map((release) => `  release ${release.release}  ${release.status}  ${release.deployed_at ?? ''}`.trimEnd()),
    ...droplet.events.slice(-10).map((event) => `  event ${event.seq} ${event.at} ${event.type}`),
  ];
}

export function registerDropletCommands(program: Command, context: CliContext): void {
  const { client } = context;
  program.command('droplets').description('the registered droplets, their health and releases').addOption(jsonOption())
    .action(async (options: { json?: boolean }) => {
      const answer = await client.request<{ droplets: DropletEntry[] }>('/executor/droplets');
      if (options.json) context.printJson(answer);
      else if (answer.droplets.length === 0) context.print('no droplets');
      else for (const droplet of answer.droplets) context.print(dropletLine(droplet));
    });
  program.command('droplet').description('one droplet: deployment, health, releases, events').argument('<name>').addOption(jsonOption())
    .action(async (name: string, options: { json?: boolean }) => {
      const droplet = await client.request<DropletDetail>(dropletPath(name));
      if (options.json) context.printJson(droplet);
      else for (const line of dropletText(droplet)) context.print(line);
    });
  program.command('rollback').description('back to the previous release, or --to a build id').argument('<name>').option('--to <build-id>', 'the release to go back to').addOption(jsonOption())
    .action(async (name: string, options: { to?: string; json?: boolean }) => {
      const action = await client.request<Action>(dropletPath(name, '/rollback'), { method: 'POST', query: { to: options.to } });
      if (options.json) context.printJson(action);
      else context.print(`${name}: rolled back to ${action.release}${action.url ? ` at ${action.url}` : ''}`);
    });
  program.command('logs').description("the last lines of the live release's log").argument('<name>').option('--lines <n>', 'how many (1-2000)', integerFrom(1, 2000)).addOption(jsonOption())
    .action(async (name: string, options: { lines?: number; json?: boolean }) => {
      const answer = await client.request<{ name: string; lines: string[] }>(dropletPath(name, '/logs'), { query: { lines: options.lines } });
      if (options.json) context.printJson(answer);
      else for (const line of answer.lines) context.print(line);
    });
}
