/**
 * The droplet lifecycle API as a test reads it (`GET /executor/droplets/{name}` and the
 * list), and what a test checks of a droplet on its host: where `current` points, what
 * its releases directory holds, and what its supervisor says is serving.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { api } from './executor.js';
import { ctl } from './supervisor-fixture.js';

export interface ReleaseJson {
  release: string;
  status: string;
  target: string;
  host: string;
  url: string;
  commit: string;
  supervisor: string;
  pid: number | null;
  port: number | null;
  deployed_at: string;
  started_at: string | null;
  on_host?: boolean;
}

export interface DropletEventJson {
  seq: number;
  type: string;
  data: Record<string, unknown>;
  at: string;
}

export interface DropletJson {
  droplet_id: number;
  name: string;
  url: string | null;
  build_id?: string;
  deployment: ReleaseJson | null;
  health: { status: string; checked_at?: string; detail?: string };
  releases: ReleaseJson[];
  events?: DropletEventJson[];
}

export async function dropletView(baseUrl: string, name: string): Promise<DropletJson> {
  const response = await api<DropletJson>(baseUrl, `/executor/droplets/${name}`);
  if (response.status !== 200) throw new Error(`GET /executor/droplets/${name}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Releases the executor records as live (active or stopped), the current one included. */
export function liveReleases(view: DropletJson): string[] {
  return [view.deployment, ...view.releases].filter((release) => release && (release.status === 'active' || release.status === 'stopped')).map((release) => release!.release);
}

/** Where `{dropletDir}/current` points (`releases/<id>`), or null. */
export function currentLink(dropletDir: string): string | null {
  try {
    return readlinkSync(join(dropletDir, 'current'));
  } catch {
    return null;
  }
}

/** Entries of `releases/` an interrupted upload or install leaves behind. */
export function uploadLeftovers(dropletDir: string): string[] {
  const releases = join(dropletDir, 'releases');
  if (!existsSync(releases)) return [];
  return readdirSync(releases).filter((entry) => entry.startsWith('.partial-') || entry.startsWith('.upload-'));
}

export interface SupervisorView {
  active: string | null;
  candidate: string | null;
  /** Backend process groups the supervisor records as alive. */
  backends: number;
}

/** What the droplet's supervisor on the host says it serves, asked over its control socket. */
export async function supervisorView(dropletDir: string): Promise<SupervisorView> {
  const { answer } = await ctl(dropletDir, { cmd: 'status' });
  if (!answer?.ok) throw new Error(`supervisor of ${dropletDir} did not answer: ${JSON.stringify(answer)}`);
  let backends = 0;
  try {
    backends = (JSON.parse(readFileSync(join(dropletDir, 'run', 'backends.json'), 'utf8')) as unknown[]).length;
  } catch {
    // none recorded
  }
  return { active: answer.active?.release ?? null, candidate: answer.candidate?.release ?? null, backends };
}
