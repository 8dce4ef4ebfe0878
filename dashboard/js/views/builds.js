/** The builds list: every build's live status (polled), newest first. */
import { api, paths } from '../api.js';
import { badge, formatCost, formatTime, h, replace, replaceKeepingFocus } from '../h.js';

const POLL_MS = 3000;

function row(build) {
  return h('tr', { dataset: { buildId: build.build_id } },
    h('td', h('a', { href: `#/builds/${encodeURIComponent(build.build_id)}`, dataset: { focus: build.build_id } }, build.droplet_name)),
    h('td', badge(build.status)),
    h('td', `${build.current_step_number}/8 ${build.current_step}`, build.pending_approval ? h('span.note', ` · waiting at ${build.pending_approval.gate.replaceAll('_', ' ')}`) : null),
    h('td', h('progress', { max: 100, value: build.progress_percent, 'aria-label': `${build.progress_percent}% done` })),
    h('td.intent', build.intent_summary),
    h('td', build.approval_mode),
    h('td.num', formatCost(build.cost_usd)),
    h('td', formatTime(build.created_at)),
  );
}

function table(builds) {
  if (builds.length === 0) return h('p', 'No builds yet. ', h('a', { href: '#/new' }, 'Submit an intent'), '.');
  return h('div.table-wrap',
    h('table.builds',
      h('caption.visually-hidden', 'Builds, newest first'),
      h('thead', h('tr', ['Droplet', 'Status', 'Step', 'Progress', 'Intent', 'Mode', 'Cost', 'Created'].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', builds.map(row)),
    ),
  );
}

export function renderBuildList(main) {
  const body = h('div', h('p', 'Loading builds…'));
  const error = h('p.error', { role: 'alert', hidden: true });
  replace(main,
    h('div.heading', h('h1', 'Builds'), h('a.button.primary', { href: '#/new' }, 'New build')),
    error, body);
  let stopped = false;
  let timer;
  let shown = '';
  const refresh = async () => {
    try {
      const builds = await api(paths.builds());
      if (stopped) return;
      error.hidden = true;
      // Re-render only on change, so keyboard focus inside the table survives the polling.
      const json = JSON.stringify(builds);
      if (json !== shown) replaceKeepingFocus(body, table(builds));
      shown = json;
    } catch (thrown) {
      if (stopped) return;
      error.hidden = false;
      error.textContent = `Could not load the builds: ${thrown.message}`;
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
