/**
 * One executor wired to a fake model API, for the fault tests of each provider: the
 * builds stop at the gate after their SPEC (no npm runs), and the executor's logs are
 * kept so the tests can look for the key in them.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { BuildEvent } from '../../src/domain/events.js';
import { startFakeModelServer, type FakeModelServer, type ScriptedBlock } from './fake-model-server.js';
import { api, startExecutor, submitBuild, type TestExecutor } from './executor.js';

export const SPEC = '# SPEC\n\n## Purpose\n\nKeeps notes.\n\n## Endpoints\n\nThe five UDC endpoints.\n';
export const PARTIAL = 'PARTIAL SPEC SHOULD NOT SURVIVE';
export const partialSpec: ScriptedBlock[] = [{ type: 'tool_use', name: 'write_file', input: { path: 'docs/SPEC.md', content: PARTIAL } }];

export interface FaultHost {
  model: FakeModelServer;
  server: TestExecutor;
  /** Every line the executor logged, at debug level. */
  logLines: string[];
  /** A fresh droplet per call; `first` is the index of its first model request. */
  specBuild(extra?: Record<string, unknown>): Promise<{ buildId: string; first: number }>;
  events(buildId: string): Promise<BuildEvent[]>;
  /** How many builds specBuild submitted. */
  submitted(): number;
  close(): Promise<void>;
}

/** `env` gets the fake API's URL; `subject` names the droplets (`Build <subject> number N …`). */
export async function startFaultHost(env: (modelUrl: string) => Record<string, string>, subject: string): Promise<FaultHost> {
  const model = await startFakeModelServer();
  const logLines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const server = await startExecutor(
    { MODEL_RETRY_BASE_MS: '20', MODEL_MAX_RETRIES: '3', MODEL_IDLE_TIMEOUT_SECONDS: '1', DEPLOY_TARGET: 'none', ...env(model.url) },
    { logger },
  );
  let builds = 0;
  return {
    model,
    server,
    logLines,
    async specBuild(extra = {}) {
      builds += 1;
      const first = model.requests.length;
      // Named explicitly: the intent reader names every "Build <subject> number N" after the subject alone.
      const droplet_name = `${subject.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${builds}`;
      const buildId = await submitBuild(server.baseUrl, { architect_intent: `Build ${subject} number ${builds} for short notes`, droplet_name, approval_mode: 'checkpoints', ...extra });
      return { buildId, first };
    },
    submitted: () => builds,
    events: async (buildId) => (await api<BuildEvent[]>(server.baseUrl, `/executor/builds/${buildId}/events`)).body,
    async close() {
      await server.close();
      await model.close();
    },
  };
}

/** The `model_call` records among a build's events. */
export function modelCalls(list: BuildEvent[]): Array<Record<string, unknown>> {
  return list.flatMap((event) => (event.type === 'step.progress' && event.data.model_call ? [event.data.model_call as Record<string, unknown>] : []));
}
