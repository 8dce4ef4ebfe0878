/** Approve, reject (with feedback), cancel and retry: what the build's state allows. */
import { api, paths } from '../api.js';
import { announce, h, replace } from '../h.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

async function act(label, call, onDone, error) {
  error.hidden = true;
  try {
    const summary = await call();
    announce(`${label}: the build is ${summary.status.replaceAll('_', ' ')}.`);
    onDone(summary);
  } catch (thrown) {
    error.hidden = false;
    error.textContent = `${label} failed: ${thrown.message}`;
  }
}

function gateForm(build, onDone, error) {
  const gate = build.pending_approval;
  const feedback = h('textarea', { id: 'gate-feedback', name: 'feedback', rows: 3, maxlength: 5000, 'aria-describedby': 'gate-feedback-hint' });
  const decide = (approved) => act(approved ? 'Approve' : 'Reject',
    () => api(paths.approve(build.build_id), { body: { approved, ...(feedback.value.trim() ? { feedback: feedback.value.trim() } : {}) } }),
    onDone, error);
  return h('section.card.gate', { 'aria-labelledby': 'gate-title' },
    h('h2', { id: 'gate-title' }, `Waiting for approval: ${gate.gate.replaceAll('_', ' ')} (step ${gate.step_number})`),
    h('p', gate.summary),
    h('div.field',
      h('label', { for: 'gate-feedback' }, 'Feedback (optional)'),
      feedback,
      h('p.hint', { id: 'gate-feedback-hint' }, 'Recorded with the decision; a rejection cancels the build.')),
    h('div.actions',
      h('button.primary', { type: 'button', onclick: () => decide(true) }, 'Approve'),
      h('button.danger', { type: 'button', onclick: () => decide(false) }, 'Reject')),
  );
}

/** A key of what decides the buttons, so they are rebuilt (and focus lost) only when that changes. */
export function actionsKey(build) {
  return JSON.stringify([build.status, build.pending_approval?.gate ?? null, build.pending_approval?.requested_at ?? null]);
}

export function renderActions(container, build, onDone) {
  const error = h('p.error', { role: 'alert', hidden: true });
  const buttons = [];
  if (!TERMINAL.includes(build.status)) {
    buttons.push(h('button.danger', {
      type: 'button',
      onclick: () => {
        if (confirm('Cancel this build? Its running step is stopped.')) void act('Cancel', () => api(paths.cancel(build.build_id), { method: 'DELETE' }), onDone, error);
      },
    }, 'Cancel build'));
  }
  if (build.status === 'failed' || build.status === 'cancelled') {
    buttons.push(h('button', { type: 'button', onclick: () => act('Retry', () => api(paths.retry(build.build_id), { method: 'POST' }), onDone, error) }, 'Retry'));
  }
  replace(container,
    build.pending_approval ? gateForm(build, onDone, error) : null,
    buttons.length > 0 ? h('div.actions', buttons) : null,
    error,
  );
}
