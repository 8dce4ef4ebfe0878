/**
 * Tokens a model-written build costs: the Claude author (real SDK) against the fake
 * Messages API, on a droplet that needs two repairs in two different files: a wrong
 * tax rate two imports away from the test that notices it, then a broken test. The
 * fake model changes only what it has seen (test/support/fake-model/sighted.ts: what
 * the repair showed it, or what it read with read_file), as a real model must.
 * Baseline, measured in the same run against the same server: what the seed did on
 * every iteration, which was to send the SPEC, the standards and every file again,
 * uncached, and get every file back.
 * Usage: npm run bench:model
 */
import { rmSync } from 'node:fs';
import { AnthropicClient } from '../src/authors/model/anthropic-client.js';
import { failureBrief, foundationBlock, specBlock, systemPrompt } from '../src/authors/model/prompts.js';
import { loadFoundationFiles } from '../src/authors/foundation.js';
import { loadConfig } from '../src/composition/config.js';
import type { BuildView } from '../src/domain/status.js';
import type { BuildEvent } from '../src/domain/events.js';
import { createExecutor } from '../src/composition/executor.js';
import type { VerificationReport } from '../src/domain/verification.js';
import { startFakeModelServer } from '../test/support/fake-model-server.js';
import { tempDataDir } from '../test/support/executor.js';
import { sightedAnswer } from '../test/support/fake-model/sighted.js';
import { brokenLine, specAnswer, taskOf, taskText, toolAnswer, withBrokenTest, workingDroplet, WRONG_TAX_RATE_FIX, withWrongTaxRate } from '../test/support/model-script.js';

const INTENT = 'Build Analytics Engine for tracking droplet metrics and performance';

interface CallUsage {
  purpose: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

const inputOf = (call: CallUsage) => call.input_tokens + call.cache_read_tokens + call.cache_write_tokens;

const droplet = await workingDroplet(INTENT, 1);
// Attempt 1 fails two tests (the rate, the broken test); the first repair fixes the rate, the second the test.
const code = withBrokenTest(withWrongTaxRate(droplet.files), 'second');
const repairs = [[WRONG_TAX_RATE_FIX], [{ path: 'test/udc.test.js', oldText: brokenLine('second'), newText: "broken('fixed', () => {});" }]];
const model = await startFakeModelServer({
  fallback: (request) => {
    const task = taskOf(request);
    if (task === 'spec') return specAnswer(droplet.spec, droplet.proof);
    if (task === 'code') return toolAnswer(code);
    if (task === 'repair') {
      // The turns of one repair (reads) keep its edits; a new repair takes the next ones.
      const attempt = Number(/verification attempt (\d+)/.exec(taskText(request))?.[1] ?? 0);
      return sightedAnswer(request, repairs[attempt - 1] ?? []);
    }
    // The seed's full regeneration: every file back.
    return toolAnswer(droplet.files);
  },
});
const dataDir = tempDataDir();
const executor = await createExecutor(
  loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ANTHROPIC_API_KEY: 'sk-ant-bench', ANTHROPIC_BASE_URL: model.url, DEPLOY_TARGET: 'none' }),
);
try {
  const submitted = await executor.builds.submit({ architectIntent: INTENT, approvalMode: 'auto', autoDeploy: false, dropletId: 1 });
  const view = await new Promise<BuildView>((resolve) => {
    const unsubscribe = executor.builds.subscribe(submitted.build_id, (event) => {
      if (event.type === 'build.completed' || event.type === 'build.failed') {
        unsubscribe();
        resolve(executor.builds.get(submitted.build_id));
      }
    });
  });
  if (view.status !== 'completed') throw new Error(`build ${view.status}: ${JSON.stringify(view.error)}`);
  const events: BuildEvent[] = await executor.builds.events(submitted.build_id, 0);
  const calls = events.flatMap((event) => (event.type === 'step.progress' && event.data.model_call ? [event.data.model_call as CallUsage] : []));
  const reports = events.flatMap((event) => (event.type === 'step.progress' && event.data.passed === false && event.data.stage ? [event] : []));

  // The seed's iteration, measured: everything in one uncached message, every file back.
  const client = new AnthropicClient({ apiKey: 'sk-ant-bench', model: 'claude-sonnet-5-5', baseURL: model.url });
  const foundation = await loadFoundationFiles();
  const everything = droplet.files.map((file) => (file.kind === 'write' ? `## ${file.path}\n\n${file.content}` : '')).join('\n\n');
  const seedCalls: CallUsage[] = [];
  for (const event of reports) {
    const report = { passed: false, stage: event.data.stage, summary: String(event.data.message), childProcessMs: 0, contract: event.data.checks } as VerificationReport;
    const reply = await client.send(
      {
        system: '',
        context: [],
        tools: [],
        maxOutputTokens: 16_000,
        messages: [
          {
            role: 'user',
            parts: [{ type: 'text', text: [systemPrompt('tools'), foundationBlock(foundation), specBlock(droplet.spec), '# All files', everything, '# Test failures', failureBrief(report), 'Regenerate every file.'].join('\n\n') }],
          },
        ],
      },
      { signal: new AbortController().signal, onActivity: () => {} },
    );
    seedCalls.push({ purpose: 'seed regeneration', input_tokens: reply.usage.inputTokens, output_tokens: reply.usage.outputTokens, cache_read_tokens: 0, cache_write_tokens: 0 });
  }

  console.log(`Model-written build of "${INTENT}" with two repairs in two files (fake Messages API, real SDK, a model that changes only what it has seen)`);
  for (const call of calls) {
    console.log(`  ${call.purpose.padEnd(26)} in ${String(inputOf(call)).padStart(6)} (cache read ${String(call.cache_read_tokens).padStart(6)}, write ${String(call.cache_write_tokens).padStart(5)})  out ${String(call.output_tokens).padStart(6)}`);
  }
  const repairCalls = calls.filter((call) => call.purpose.startsWith('repair'));
  // One repair is every turn of its conversation (reads included).
  const repairCount = new Set(repairCalls.map((call) => /attempt (\d+)/.exec(call.purpose)?.[1])).size;
  const sum = (list: CallUsage[], pick: (call: CallUsage) => number) => list.reduce((total, call) => total + pick(call), 0);
  const oursIn = sum(repairCalls, inputOf) / repairCount;
  const oursAll = sum(repairCalls, (call) => inputOf(call) + call.output_tokens) / repairCount;
  const seedIn = sum(seedCalls, inputOf) / seedCalls.length;
  const seedAll = sum(seedCalls, (call) => inputOf(call) + call.output_tokens) / seedCalls.length;
  console.log(`  seed regeneration (baseline) in ${seedIn.toFixed(0).padStart(6)} (nothing cached)                out ${(seedAll - seedIn).toFixed(0).padStart(6)}`);
  console.log(`  repairs: ${repairCount}, in ${repairCalls.length} call(s) (a repair that reads the repository takes more than one)`);
  console.log(`  repair iteration vs full regeneration, tokens sent: ${(oursIn / seedIn).toFixed(2)} (${oursIn.toFixed(0)} vs ${seedIn.toFixed(0)})`);
  console.log(`  repair iteration vs full regeneration, tokens sent and received: ${(oursAll / seedAll).toFixed(2)}`);
  const later = calls.slice(1);
  const cacheShare = sum(later, (call) => call.cache_read_tokens) / sum(later, inputOf);
  console.log(`  input tokens read from the cache on calls after the first: ${(cacheShare * 100).toFixed(1)}% (aim: at least 70%)`);
  const build = sum(calls, (call) => inputOf(call) + call.output_tokens);
  const seedBuild = sum(calls.slice(0, 2), (call) => inputOf(call) + call.output_tokens) + seedAll * repairCount;
  console.log(`  whole build: ${build} tokens vs ${seedBuild.toFixed(0)} the seed's way: ${(build / seedBuild).toFixed(2)}; cost $${view.usage.cost_usd.toFixed(4)} at list prices`);
} finally {
  await executor.close();
  await model.close();
  rmSync(dataDir, { recursive: true, force: true });
}
