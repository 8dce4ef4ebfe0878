/** The form to submit an architect's intent (POST /executor/build-droplet). */
import { api, paths } from '../api.js';
import { announce, h, replace } from '../h.js';

const MODES = [
  ['final', 'Final — stop before deploying for approval'],
  ['checkpoints', 'Checkpoints — stop after the SPEC and before deploying'],
  ['auto', 'Auto — no approval'],
];

function field(id, label, control, hint) {
  return h('div.field',
    h('label', { for: id }, label),
    control,
    hint ? h('p.hint', { id: `${id}-hint` }, hint) : null,
  );
}

function requestFrom(form) {
  const data = new FormData(form);
  const body = {
    architect_intent: String(data.get('intent') ?? '').trim(),
    approval_mode: String(data.get('mode')),
    auto_deploy: data.get('auto_deploy') === 'on',
  };
  const name = String(data.get('name') ?? '').trim();
  if (name) body.droplet_name = name;
  return body;
}

export function renderNewBuild(main) {
  const error = h('p.error', { role: 'alert', hidden: true });
  const submit = h('button.primary', { type: 'submit' }, 'Start build');
  const form = h('form.new-build', { novalidate: false },
    field('intent', 'Intent', h('textarea', { id: 'intent', name: 'intent', rows: 6, required: true, minlength: 10, maxlength: 20000, 'aria-describedby': 'intent-hint' }),
      'What the droplet should do, in a sentence or a page (at least 10 characters).'),
    field('mode', 'Approval mode', h('select', { id: 'mode', name: 'mode' }, MODES.map(([value, label]) => h('option', { value }, label)))),
    field('name', 'Droplet name (optional)', h('input', { id: 'name', name: 'name', type: 'text', autocomplete: 'off', 'aria-describedby': 'name-hint' }),
      'Lower-case words joined by hyphens; left empty, the executor names it from the intent.'),
    h('div.field.check',
      h('input', { id: 'auto_deploy', name: 'auto_deploy', type: 'checkbox', checked: true }),
      h('label', { for: 'auto_deploy' }, 'Deploy when verified')),
    error,
    h('div.actions', submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      const accepted = await api(paths.submit(), { body: requestFrom(form) });
      announce(`Build ${accepted.build_id} accepted.`);
      location.hash = `#/builds/${encodeURIComponent(accepted.build_id)}`;
    } catch (thrown) {
      error.hidden = false;
      error.textContent = `The build was not accepted: ${thrown.message}`;
      submit.disabled = false;
    }
  });
  replace(main, h('h1', 'New build'), form);
  return () => {};
}
