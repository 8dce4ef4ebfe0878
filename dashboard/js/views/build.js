/**
 * A build's page: the eight steps live over the WebSocket, the gate's actions, the
 * deployment and its health, the SPEC with its acceptance results, the verifier's
 * report, the generated files and each repair's diff, and the cost per step.
 * The stream says *that* something happened; GET …/status says what the build is now.
 */
import { api, ApiError, paths } from '../api.js';
import { announce, badge, formatTime, h, replace } from '../h.js';
import { followBuild } from '../stream.js';
import { actionsKey, renderActions } from './build-actions.js';
import { renderFiles, renderRepairs } from './repository.js';
import { acceptanceResults, renderAcceptance, renderSpec } from './spec.js';
import { createStepLog, recordEvent, renderTimeline, renderUsage } from './timeline.js';
import { renderVerifier } from './verifier.js';

const HEALTH_POLL_MS = 5000;
/** Events after which the repository has new files or repairs worth listing again. */
const REPOSITORY_STEPS = ['coordinator_package', 'apprentice_build', 'verifier'];

function section(id, title, ...extra) {
  return h('section.card', { id: `section-${id}`, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...extra, h('div', { dataset: { body: id } }));
}

function skeleton(main, buildId) {
  replace(main,
    h('p.crumbs', h('a', { href: '#/' }, '← All builds')),
    h('div.heading', h('h1', { id: 'build-title' }, buildId), h('span', { 'data-body': 'status' })),
    h('p.intent', { 'data-body': 'intent' }),
    h('p.note', { 'data-body': 'meta' }),
    h('div', { 'data-body': 'actions' }),
    h('div.grid',
      section('steps', 'Steps', h('p.note', { 'data-body': 'stream-state', 'aria-live': 'off' })),
      h('div.stack', section('deployment', 'Deployment'), section('usage', 'Cost'))),
    section('acceptance', 'Acceptance scenarios'),
    section('verifier', "Verifier's report"),
    section('spec', 'SPEC'),
    section('files', 'Generated files'),
    section('repairs', 'Repair iterations'),
  );
  return (name) => main.querySelector(`[data-body="${name}"]`);
}

/** Renders `fn` into the part only when `key` changed, so parts the user is using keep their state. */
function memo() {
  const keys = new Map();
  return (part, key, fn) => {
    if (keys.get(part) === key) return;
    keys.set(part, key);
    fn();
  };
}

function renderDeployment(container, build, health) {
  if (!build.deployment_url) {
    replace(container, h('p.note', build.status === 'completed' ? 'Not deployed (auto deploy was off).' : 'Not deployed yet.'));
    return;
  }
  replace(container, h('dl.facts',
    h('dt', 'URL'), h('dd', h('a', { href: build.deployment_url, target: '_blank', rel: 'noopener noreferrer', 'data-role': 'deployment-url' }, build.deployment_url)),
    h('dt', 'Health'), h('dd', { 'data-role': 'health' }, health ? badge(health.status) : 'checking…', health?.checked_at ? h('span.note', ` at ${formatTime(health.checked_at)}`) : null),
  ));
}

const STREAM_WORDS = {
  live: 'Following live.',
  ended: 'The build has ended; the stream is closed.',
  reconnecting: 'Connection lost; reconnecting…',
  refused: 'The stream was refused.',
};
const ENDED = ['build.completed', 'build.failed', 'build.cancelled'];

class BuildPage {
  constructor(main, buildId) {
    this.main = main;
    this.buildId = buildId;
    this.part = skeleton(main, buildId);
    this.once = memo();
    this.log = createStepLog();
    this.build = null;
    this.health = null;
    this.healthPolling = false;
    this.stream = null;
    this.stopped = false;
  }

  render(view) {
    if (this.stopped) return;
    const { part, once } = this;
    const previous = this.build;
    this.build = view;
    if (previous && previous.status !== view.status) announce(`Build ${view.droplet_name} is ${view.status.replaceAll('_', ' ')}.`);
    part('status').replaceChildren(badge(view.status));
    this.main.querySelector('#build-title').textContent = view.droplet_name;
    part('intent').textContent = view.architect_intent;
    part('meta').textContent = `${view.build_id} · mode ${view.approval_mode} · created ${formatTime(view.created_at)}${view.completed_at ? ` · ended ${formatTime(view.completed_at)}` : ''}`;
    renderTimeline(part('steps'), view, this.log);
    renderUsage(part('usage'), view);
    once('actions', actionsKey(view), () => renderActions(part('actions'), view, (summary) => this.onAction(summary)));
    once('deployment', JSON.stringify([view.deployment_url, view.status, this.health]), () => renderDeployment(part('deployment'), view, this.health));
    const spec = view.steps.find((s) => s.step === 'spec_generation')?.details;
    once('spec', JSON.stringify([spec?.spec ?? null, view.intent_coverage]), () => renderSpec(part('spec'), view));
    once('acceptance', JSON.stringify([spec?.scenarios?.length ?? 0, [...acceptanceResults(view).values()]]), () => renderAcceptance(part('acceptance'), view));
    const verifier = view.steps.find((s) => s.step === 'verifier');
    once('verifier', JSON.stringify([verifier?.status, verifier?.details, verifier?.error]), () => renderVerifier(part('verifier'), view));
    if (view.deployment_url && !this.healthPolling) {
      this.healthPolling = true;
      void this.pollHealth();
    }
  }

  /** Events come in bursts: one status read per burst. */
  refresh() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(async () => {
      try {
        this.render(await api(paths.status(this.buildId)));
      } catch (thrown) {
        this.part('stream-state').textContent = `Could not refresh: ${thrown.message}`;
      }
    }, 150);
  }

  async pollHealth() {
    if (this.stopped || !this.build?.deployment_url) return;
    try {
      this.health = (await api(paths.droplet(this.build.droplet_name))).health;
    } catch (thrown) {
      this.health = { status: thrown instanceof ApiError && thrown.status === 404 ? 'not_deployed' : 'unknown' };
    }
    this.render(this.build);
    this.healthTimer = setTimeout(() => void this.pollHealth(), HEALTH_POLL_MS);
  }

  /** Like refresh, once per burst: a stream replayed from the start ends several repository steps at once. */
  loadRepository() {
    clearTimeout(this.repositoryTimer);
    this.repositoryTimer = setTimeout(() => {
      void renderFiles(this.part('files'), this.buildId);
      void renderRepairs(this.part('repairs'), this.buildId);
    }, 150);
  }

  onEvent(event) {
    recordEvent(this.log, event);
    if (event.type === 'step.progress') {
      if (this.build) renderTimeline(this.part('steps'), this.build, this.log);
      return;
    }
    if (event.type.startsWith('notification.')) return;
    if (event.type === 'step.completed' || event.type === 'step.failed') announce(`Step ${event.data.step_number} ${event.type === 'step.completed' ? 'completed' : 'failed'}.`);
    this.refresh();
    if (ENDED.includes(event.type) || (event.type === 'step.completed' && REPOSITORY_STEPS.includes(event.data.step))) this.loadRepository();
  }

  onAction(summary) {
    this.refresh();
    // A retry reopens a build whose stream had closed.
    if (summary.status === 'queued' || summary.status === 'running') this.stream?.restart();
  }

  async start() {
    try {
      this.render(await api(paths.status(this.buildId)));
    } catch (thrown) {
      replace(this.main, h('h1', 'Build not found'), h('p.error', { role: 'alert' }, thrown.message), h('p', h('a', { href: '#/' }, 'Back to the builds')));
      return;
    }
    if (this.stopped) return;
    this.loadRepository();
    this.stream = followBuild(this.buildId, {
      onSnapshot: (view) => this.render(view),
      onEvent: (event) => this.onEvent(event),
      onState: (state) => {
        this.part('stream-state').textContent = STREAM_WORDS[state] ?? state;
      },
    });
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.healthTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.repositoryTimer);
    this.stream?.stop();
  }
}

export function renderBuild(main, buildId) {
  const page = new BuildPage(main, buildId);
  void page.start();
  return () => page.stop();
}
