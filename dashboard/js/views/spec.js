/** The SPEC (the spec_generation step's details), its acceptance scenarios and how they went. */
import { badge, h, replace } from '../h.js';
import { renderMarkdown } from '../markdown.js';

function stepDetails(build, name) {
  return build.steps.find((step) => step.step === name)?.details ?? {};
}

/** The verifier's latest acceptance results by scenario name (absent before it ran them). */
export function acceptanceResults(build) {
  const verifier = build.steps.find((step) => step.step === 'verifier');
  const report = verifier?.details?.report ?? verifier?.error?.details?.report;
  const results = Array.isArray(report?.acceptance) ? report.acceptance : [];
  return new Map(results.map((result) => [result.name, result]));
}

function requestLine(step) {
  const auth = step.auth === false ? ' (without the token)' : '';
  return `${step.request.method} ${step.request.path} → ${step.expect.status}${auth}`;
}

function scenarioItem(scenario, result) {
  const state = result ? (result.passed ? 'passed' : 'failed') : 'not_run';
  return h('li.scenario', { dataset: { scenario: scenario.name, result: state } },
    h('div.step-head', h('span.scenario-name', scenario.name), badge(state, result ? (result.passed ? 'Passed' : 'Failed') : 'Not run yet')),
    h('p.note', `Covers: ${scenario.covers}`),
    result && !result.passed
      ? h('p.error', `Step ${result.failedStep}: expected ${result.expected}; got ${result.got}`)
      : null,
    h('details',
      h('summary', `${scenario.steps.length} request${scenario.steps.length === 1 ? '' : 's'}`),
      h('ol.requests', scenario.steps.map((step) => h('li', h('code', requestLine(step)))))),
  );
}

export function renderAcceptance(container, build) {
  const scenarios = stepDetails(build, 'spec_generation').scenarios;
  if (!Array.isArray(scenarios) || scenarios.length === 0) {
    replace(container, h('p.note', 'No acceptance scenarios yet (the SPEC step writes them).'));
    return;
  }
  const results = acceptanceResults(build);
  const passed = scenarios.filter((s) => results.get(s.name)?.passed).length;
  replace(container,
    h('p', results.size > 0 ? `${passed} of ${scenarios.length} scenarios passed.` : `${scenarios.length} scenarios, not run yet.`),
    h('ul.scenarios', scenarios.map((scenario) => scenarioItem(scenario, results.get(scenario.name)))),
  );
}

export function renderSpec(container, build) {
  const details = stepDetails(build, 'spec_generation');
  if (typeof details.spec !== 'string') {
    replace(container, h('p.note', 'The SPEC is not written yet.'));
    return;
  }
  const coverage = build.intent_coverage;
  replace(container,
    coverage ? h('dl.facts',
      h('dt', 'Intent covered'), h('dd', coverage.covered.join('; ') || '—'),
      h('dt', 'Not covered'), h('dd', coverage.not_covered.join('; ') || 'nothing')) : null,
    h('details.spec', { open: true },
      h('summary', `SPEC by the ${details.author ?? ''} author (${details.characters ?? details.spec.length} characters)`),
      h('div.markdown', renderMarkdown(details.spec, 2))),
  );
}
