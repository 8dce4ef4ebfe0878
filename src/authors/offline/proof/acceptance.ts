/**
 * `docs/acceptance.json` for an offline droplet: per resource, a record keeps what it was
 * given (create, read back, change, delete), and strangers are refused.
 */
import type { DropletPlan, ResourcePlan } from '../plan.js';
import { sample } from '../samples.js';

function keepsWhatItWasGiven(resource: ResourcePlan) {
  const base = `/${resource.plural}`;
  const created = sample(resource, 0);
  const changed = sample(resource, 1);
  return {
    name: `a ${resource.singular} keeps what it was given, changes and goes away`,
    covers: resource.plural,
    steps: [
      { request: { method: 'POST', path: base, body: created }, expect: { status: 201, json: created }, capture: { id: 'id' } },
      { request: { method: 'GET', path: `${base}/{{id}}` }, expect: { status: 200, json: { id: '{{id}}', ...created } } },
      { request: { method: 'PATCH', path: `${base}/{{id}}`, body: changed }, expect: { status: 200, json: { id: '{{id}}', ...changed } } },
      { request: { method: 'DELETE', path: `${base}/{{id}}` }, expect: { status: 204 } },
      { request: { method: 'GET', path: `${base}/{{id}}` }, expect: { status: 404 } },
    ],
  };
}

function refusesStrangers(resource: ResourcePlan) {
  return {
    name: `${resource.plural} are refused without the API token`,
    covers: resource.plural,
    steps: [{ request: { method: 'GET', path: `/${resource.plural}` }, expect: { status: 401 }, auth: false }],
  };
}

export function acceptanceJson(plan: DropletPlan): string {
  const scenarios = plan.resources.flatMap((resource) => [keepsWhatItWasGiven(resource), refusesStrangers(resource)]);
  return `${JSON.stringify({ scenarios }, null, 2)}\n`;
}
