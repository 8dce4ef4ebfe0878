/**
 * The dashboard's entry: hash routes (#/, #/builds/<id>, #/new, #/droplets) to views.
 * Each view returns a `dispose` that stops its polling or stream when the route changes.
 */
import { h, replace } from './h.js';
import { renderBuildList } from './views/builds.js';
import { renderBuild } from './views/build.js';
import { renderNewBuild } from './views/new-build.js';
import { renderDroplets } from './views/droplets.js';

const routes = [
  { pattern: /^#?\/?$/, nav: 'builds', title: 'Builds', render: (main) => renderBuildList(main) },
  { pattern: /^#\/builds\/(.+)$/, nav: 'builds', title: 'Build', render: (main, id) => renderBuild(main, decodeURIComponent(id)) },
  { pattern: /^#\/new$/, nav: 'new', title: 'New build', render: (main) => renderNewBuild(main) },
  { pattern: /^#\/droplets$/, nav: 'droplets', title: 'Droplets', render: (main) => renderDroplets(main) },
];

let dispose = () => {};

function route() {
  dispose();
  dispose = () => {};
  const main = document.getElementById('main');
  const hash = location.hash;
  const match = routes.map((r) => ({ r, m: r.pattern.exec(hash) })).find((x) => x.m);
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (match && link.dataset.nav === match.r.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!match) {
    replace(main, h('h1', 'Not found'), h('p', h('a', { href: '#/' }, 'Back to the builds')));
    return;
  }
  document.title = `${match.r.title} · Autonomous Executor`;
  dispose = match.r.render(main, ...match.m.slice(1)) ?? (() => {});
  // Move focus to the new content for keyboard and screen-reader users (not on first load).
  if (route.seen) main.focus({ preventScroll: true });
  route.seen = true;
}

window.addEventListener('hashchange', route);
route();
