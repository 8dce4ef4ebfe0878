/**
 * The eight steps as a timeline: status, duration, cost and the latest progress line.
 * Each step is an <li data-step data-status>, updated in place so the page never reloads.
 */
import { badge, formatCost, formatDuration, h, replace } from '../h.js';

/** Model cost and latest line per step, gathered from the stream's events. */
export function createStepLog() {
  return { cost: new Map(), tokens: new Map(), line: new Map() };
}

export function recordEvent(log, event) {
  const step = event.data?.step;
  if (!step) return;
  if (event.type === 'step.progress') {
    log.line.set(step, event.data.message);
    const call = event.data.model_call;
    if (call && typeof call.cost_usd === 'number') {
      log.cost.set(step, (log.cost.get(step) ?? 0) + call.cost_usd);
      const tokens = (call.input_tokens ?? 0) + (call.output_tokens ?? 0) + (call.cache_read_tokens ?? 0) + (call.cache_write_tokens ?? 0);
      log.tokens.set(step, (log.tokens.get(step) ?? 0) + tokens);
    }
  } else if (event.type === 'step.failed') log.line.set(step, event.data.error?.message ?? 'failed');
}

const STATUS_WORDS = {
  pending: 'Pending',
  in_progress: 'Running',
  completed: 'Completed',
  skipped: 'Skipped',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function stepItem(step, log, build) {
  const waiting = build.pending_approval && build.pending_approval.step_number === step.step_number && step.status === 'pending';
  const status = waiting ? 'waiting' : step.status;
  const line = step.status === 'in_progress' || step.status === 'failed' ? log.line.get(step.step) : null;
  return h('li.step', { dataset: { step: step.step, status }, 'aria-current': step.status === 'in_progress' ? 'step' : null },
    h('span.marker', { 'aria-hidden': 'true' }, String(step.step_number)),
    h('div.step-body',
      h('div.step-head',
        h('span.step-name', step.name),
        badge(status, waiting ? 'Waiting for approval' : STATUS_WORDS[step.status] ?? step.status)),
      h('div.step-meta',
        h('span', 'Duration: ', formatDuration(step.duration_seconds)),
        h('span', 'Cost: ', formatCost(log.cost.get(step.step) ?? 0)),
        log.tokens.get(step.step) ? h('span', `Tokens: ${log.tokens.get(step.step)}`) : null),
      line ? h('p.step-line', line) : null,
      step.error ? h('p.error', `${step.error.code}: ${step.error.message}`) : null,
    ),
  );
}

export function renderTimeline(container, build, log) {
  replace(container,
    h('ol.timeline', { 'aria-label': 'Build steps' }, build.steps.map((step) => stepItem(step, log, build))),
  );
}

export function renderUsage(container, build) {
  const usage = build.usage;
  replace(container,
    h('dl.facts',
      h('dt', 'Total cost'), h('dd', formatCost(usage.cost_usd), usage.max_cost_usd !== null ? ` of at most ${formatCost(usage.max_cost_usd)}` : ''),
      h('dt', 'Input tokens'), h('dd', String(usage.input_tokens)),
      h('dt', 'Output tokens'), h('dd', String(usage.output_tokens)),
      h('dt', 'Cache read / write'), h('dd', `${usage.cache_read_tokens} / ${usage.cache_write_tokens}`),
    ),
  );
}
