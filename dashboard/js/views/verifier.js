/** The verifier's report: each attempt of the test→repair loop, the contract checks, output tails. */
import { badge, h, replace } from '../h.js';

function attemptsTable(attempts) {
  return h('table.attempts',
    h('caption', 'Attempts'),
    h('thead', h('tr', ['Attempt', 'Result', 'Stage', 'Summary', 'Commit'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', attempts.map((attempt) => h('tr',
      h('td', String(attempt.attempt)),
      h('td', badge(attempt.passed ? 'passed' : 'failed', attempt.passed ? 'Passed' : 'Failed')),
      h('td', attempt.stage ?? '—'),
      h('td', attempt.summary ?? ''),
      h('td', h('code', (attempt.commit ?? '').slice(0, 10))),
    ))),
  );
}

function checks(contract) {
  if (!Array.isArray(contract) || contract.length === 0) return null;
  const failed = contract.filter((check) => !check.passed).length;
  return h('details',
    h('summary', `Contract checks: ${contract.length - failed} of ${contract.length} passed`),
    h('ul.checks', contract.map((check) => h('li', { dataset: { result: check.passed ? 'passed' : 'failed' } },
      badge(check.passed ? 'passed' : 'failed', check.passed ? 'Passed' : 'Failed'), ' ',
      h('strong', check.name), `: expected ${check.expected}; got ${check.got}`))),
  );
}

function output(label, run) {
  if (!run || typeof run.outputTail !== 'string') return null;
  return h('details',
    h('summary', `${label}: \`${run.command}\` exited ${run.exitCode}${run.timedOut ? ' (timed out)' : ''}`),
    h('pre.output', run.outputTail));
}

export function renderVerifier(container, build) {
  const step = build.steps.find((s) => s.step === 'verifier');
  // A failed verification carries its attempts and report in the step's error instead.
  const details = step?.details?.report ? step.details : (step?.error?.details ?? step?.details ?? {});
  const report = details.report;
  if (!report && !Array.isArray(details.attempts)) {
    replace(container, h('p.note', step?.status === 'in_progress' ? 'Verifying…' : 'The verifier has not run yet.'));
    return;
  }
  replace(container,
    report ? h('p', badge(report.passed ? 'passed' : 'failed', report.passed ? 'Passed' : 'Failed'), ' ', report.summary) : null,
    Array.isArray(details.attempts) ? attemptsTable(details.attempts) : null,
    report ? checks(report.contract) : null,
    report ? output('Install', report.install) : null,
    report ? output('Tests', report.tests) : null,
  );
}
