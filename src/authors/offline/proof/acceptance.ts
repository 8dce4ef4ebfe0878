/**
 * `docs/acceptance.json` of an offline droplet: per resource, a record keeps what it was
 * given (created, found by a filter, read, replaced, changed, deleted), bad records and
 * dangling references are refused, and strangers are refused. Together the steps request
 * every operation `openapi.ts` documents for the resource.
 */
import type { AcceptanceScenario, AcceptanceStep } from '../../../domain/acceptance.js';
import { isFilterable } from '../field-schema.js';
import type { FieldPlan } from '../fields.js';
import type { DropletPlan, ResourcePlan } from '../plan.js';
import { sample } from '../samples.js';
import { archetypeScenarios } from '../archetypes/proof.js';

type Body = Record<string, unknown>;

/**
 * Steps creating the records `resource` refers to, each captured under the referencing
 * field's name so that `{{warehouse_id}}` in the sample bodies is filled. They are made
 * with the *changing* sample, so a filter on the created record's own values finds it alone.
 */
function referencedRecords(plan: DropletPlan, resource: ResourcePlan, seen: ReadonlySet<string> = new Set()): AcceptanceStep[] {
  return resource.fields.flatMap((field): AcceptanceStep[] => {
    const target = field.type === 'reference' ? plan.resources.find((candidate) => candidate.plural === field.references) : undefined;
    if (!target || seen.has(target.plural)) return [];
    const before = referencedRecords(plan, target, new Set([...seen, resource.plural]));
    return [...before, { request: { method: 'POST', path: `/${target.plural}`, body: sample(target, 1) }, expect: { status: 201 }, capture: { [field.name]: 'id' } }];
  });
}

function filterQuery(resource: ResourcePlan, created: Body): string {
  const field = resource.fields.find((candidate) => isFilterable(candidate) && candidate.type !== 'reference');
  if (!field) return '';
  return `?${field.name}=${encodeURIComponent(String(created[field.name]))}`;
}

function keepsWhatItWasGiven(plan: DropletPlan, resource: ResourcePlan): AcceptanceScenario {
  const base = `/${resource.plural}`;
  const created = sample(resource, 0);
  const replaced = sample(resource, 1);
  const first = resource.fields[0]!;
  const patch = { [first.name]: created[first.name] };
  const filter = filterQuery(resource, created);
  const steps: AcceptanceStep[] = [
    ...referencedRecords(plan, resource),
    { request: { method: 'POST', path: base, body: created }, expect: { status: 201, json: created }, capture: { id: 'id' } },
    { request: { method: 'GET', path: `${base}/{{id}}` }, expect: { status: 200, json: { id: '{{id}}', ...created } } },
    { request: { method: 'GET', path: `${base}${filter}` }, expect: { status: 200, json: filter ? { total: 1, offset: 0 } : { offset: 0 } } },
    { request: { method: 'GET', path: `${base}?limit=1&offset=0` }, expect: { status: 200, json: { limit: 1, offset: 0 } } },
    { request: { method: 'PUT', path: `${base}/{{id}}`, body: replaced }, expect: { status: 200, json: { id: '{{id}}', ...replaced } } },
    { request: { method: 'PATCH', path: `${base}/{{id}}`, body: patch }, expect: { status: 200, json: { id: '{{id}}', ...replaced, ...patch } } },
    { request: { method: 'DELETE', path: `${base}/{{id}}` }, expect: { status: 204 } },
    { request: { method: 'GET', path: `${base}/{{id}}` }, expect: { status: 404 } },
  ];
  return { name: `a ${resource.singular} keeps what it was given, changes and goes away`, covers: resource.plural, steps };
}

const errorCode = (code: string) => ({ error: { code } });

function refusesBadRecords(plan: DropletPlan, resource: ResourcePlan): AcceptanceScenario {
  const base = `/${resource.plural}`;
  const required = resource.fields.find((field) => field.required);
  const created = sample(resource, 0);
  const steps: AcceptanceStep[] = [];
  if (required) {
    const { [required.name]: _left, ...incomplete } = created;
    steps.push(...referencedRecords(plan, resource));
    steps.push({ request: { method: 'POST', path: base, body: incomplete }, expect: { status: 400, json: errorCode('VALIDATION_FAILED') } });
  }
  for (const field of resource.fields.filter((candidate): candidate is FieldPlan & { references: string } => candidate.type === 'reference' && !!candidate.references)) {
    const dangling = { ...created, [field.name]: 'no-such-record' };
    steps.push({ request: { method: 'POST', path: base, body: dangling }, expect: { status: 422, json: errorCode('REFERENCE_NOT_FOUND') } });
  }
  steps.push({ request: { method: 'GET', path: `${base}/no-such-record` }, expect: { status: 404, json: errorCode('NOT_FOUND') } });
  return { name: `a ${resource.singular} that is incomplete or points nowhere is refused`, covers: resource.plural, steps };
}

function refusesStrangers(resource: ResourcePlan): AcceptanceScenario {
  return {
    name: `${resource.plural} are refused without the API token`,
    covers: resource.plural,
    steps: [{ request: { method: 'GET', path: `/${resource.plural}` }, expect: { status: 401, json: errorCode('UNAUTHORIZED') }, auth: false }],
  };
}

export function acceptanceScenarios(plan: DropletPlan): AcceptanceScenario[] {
  const records = plan.resources.flatMap((resource) => [keepsWhatItWasGiven(plan, resource), refusesBadRecords(plan, resource), refusesStrangers(resource)]);
  return [...archetypeScenarios(plan), ...records];
}

export function acceptanceJson(plan: DropletPlan): string {
  return `${JSON.stringify({ scenarios: acceptanceScenarios(plan) }, null, 2)}\n`;
}

