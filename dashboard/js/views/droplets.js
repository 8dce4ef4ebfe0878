/** The droplets page: registry entries with their deployment, live health, releases and rollback. */
import { api, paths } from '../api.js';
import { announce, badge, formatTime, h, replace, replaceKeepingFocus } from '../h.js';

const POLL_MS = 5000;

function releaseRow(release, live) {
  return h('tr', { dataset: { release: release.release, live: String(live) } },
    h('td', h('code', release.release), live ? h('span.note', ' (live)') : null),
    h('td', badge(release.status)),
    h('td', h('code', (release.commit ?? '').slice(0, 10))),
    h('td', release.host ?? '—'),
    h('td', formatTime(release.deployed_at)),
    h('td', live ? '—' : release.on_host ? 'yes' : 'no (removed from the host)'),
  );
}

/** The live release first, then the others (newest first): the rollback targets. */
function releasesTable(droplet) {
  if (!droplet.deployment && droplet.releases.length === 0) return h('p.note', 'Not deployed.');
  return h('div.table-wrap', h('table.releases',
    h('caption', `Releases of ${droplet.name}`),
    h('thead', h('tr', ['Release', 'Status', 'Commit', 'Host', 'Deployed', 'Can roll back to'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody',
      droplet.deployment ? releaseRow(droplet.deployment, true) : null,
      droplet.releases.map((release) => releaseRow(release, false))),
  ));
}

function rollbackButton(droplet, onDone) {
  const button = h('button', { type: 'button', dataset: { focus: `rollback-${droplet.name}` } }, 'Roll back to the previous release');
  // Only a release the host still holds can be returned to.
  button.disabled = !droplet.releases.some((release) => release.on_host);
  button.addEventListener('click', async () => {
    if (!confirm(`Roll ${droplet.name} back to its previous release?`)) return;
    button.disabled = true;
    try {
      const result = await api(paths.rollback(droplet.name), { method: 'POST' });
      announce(`${droplet.name} rolled back to ${result.release}.`);
    } catch (thrown) {
      announce(`Rollback failed: ${thrown.message}`);
      alert(`Rollback failed: ${thrown.message}`);
    }
    onDone();
  });
  return button;
}

function dropletCard(droplet, onChange) {
  const url = droplet.deployment?.url ?? droplet.url;
  return h('section.card.droplet', { 'aria-labelledby': `droplet-${droplet.droplet_id}`, dataset: { droplet: droplet.name } },
    h('div.heading',
      h('h2', { id: `droplet-${droplet.droplet_id}` }, droplet.name),
      h('span', 'Health: ', badge(droplet.health.status))),
    h('dl.facts',
      h('dt', 'URL'), h('dd', url ? h('a', { href: url, rel: 'noopener noreferrer', target: '_blank' }, url) : '—'),
      h('dt', 'Version'), h('dd', droplet.version ?? '—'),
      h('dt', 'Build'), h('dd', droplet.build_id ? h('a', { href: `#/builds/${encodeURIComponent(droplet.build_id)}` }, droplet.build_id) : '—'),
      h('dt', 'Capabilities'), h('dd', (droplet.capabilities ?? []).join(', ') || '—'),
      h('dt', 'Health checked'), h('dd', formatTime(droplet.health.checked_at)),
    ),
    releasesTable(droplet),
    h('div.actions', rollbackButton(droplet, onChange)),
  );
}

export function renderDroplets(main) {
  const body = h('div', h('p', 'Loading droplets…'));
  const error = h('p.error', { role: 'alert', hidden: true });
  replace(main, h('h1', 'Droplets'), error, body);
  let stopped = false;
  let timer;
  let shown = '';
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const { droplets } = await api(paths.droplets());
      if (stopped) return;
      error.hidden = true;
      const json = JSON.stringify(droplets);
      if (json !== shown) replaceKeepingFocus(body, droplets.length === 0 ? h('p', 'No droplets registered yet.') : droplets.map((d) => dropletCard(d, refresh)));
      shown = json;
    } catch (thrown) {
      if (stopped) return;
      error.hidden = false;
      error.textContent = `Could not load the droplets: ${thrown.message}`;
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS);
  };
  void refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
