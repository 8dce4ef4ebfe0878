/**
 * A droplet's API as its `docs/openapi.json` lists it, reduced to what the executor
 * reasons about: which operations there are, and which request a path belongs to.
 */
import type { AcceptanceScenario } from './acceptance.js';

export const API_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type ApiMethod = (typeof API_METHODS)[number];

export interface ApiOperation {
  method: ApiMethod;
  /** As OpenAPI writes it: `/bookmarks/{id}`. */
  path: string;
  operation_id: string | null;
  summary: string | null;
  /** One of the five endpoints every droplet serves (the UDC), not a business route. */
  udc: boolean;
}

/** The five UDC endpoints, which every droplet's document lists beside its business routes. */
export const UDC_OPERATIONS: readonly { method: ApiMethod; path: string }[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/capabilities' },
  { method: 'GET', path: '/state' },
  { method: 'GET', path: '/dependencies' },
  { method: 'POST', path: '/message' },
];

export function isUdcOperation(method: string, path: string): boolean {
  return UDC_OPERATIONS.some((operation) => operation.method === method && operation.path === path);
}

function segments(path: string): string[] {
  return path.split('?')[0]!.split('/').slice(1);
}

const TEMPLATE_SEGMENT = /^\{[^{}/]+\}$/;

/**
 * How well `path` fits the OpenAPI path template: null when it does not, else the number
 * of literal segments matched, so `/links/search` prefers `/links/search` to `/links/{id}`.
 */
export function templateFit(template: string, path: string): number | null {
  const wanted = segments(template);
  const given = segments(path);
  if (wanted.length !== given.length) return null;
  let literal = 0;
  for (const [index, segment] of wanted.entries()) {
    if (TEMPLATE_SEGMENT.test(segment)) {
      if (given[index] === '') return null;
    } else if (segment === given[index]) literal += 1;
    else return null;
  }
  return literal;
}

/** The operation a request is for: same method, best-fitting path; null when none fits. */
export function operationFor<T extends { method: string; path: string }>(operations: readonly T[], method: string, path: string): T | null {
  let best: { operation: T; fit: number } | null = null;
  for (const operation of operations) {
    if (operation.method !== method) continue;
    const fit = templateFit(operation.path, path);
    if (fit !== null && (best === null || fit > best.fit)) best = { operation, fit };
  }
  return best?.operation ?? null;
}

/**
 * A scenario step's path as a request path, its `{{name}}` placeholders standing for
 * one segment each: `/bookmarks/{{id}}` → `/bookmarks/id`.
 */
export function stepPathShape(path: string): string {
  return path.replace(/\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}/g, (_match, name: string) => name);
}

/** Business operations no scenario step would reach, as `GET /bookmarks/{id}`. */
export function operationsNoScenarioReaches(operations: readonly ApiOperation[], scenarios: readonly AcceptanceScenario[]): string[] {
  const reached = new Set<ApiOperation>();
  for (const step of scenarios.flatMap((scenario) => scenario.steps)) {
    const operation = operationFor(operations, step.request.method, stepPathShape(step.request.path));
    if (operation) reached.add(operation);
  }
  return operations.filter((operation) => !operation.udc && !reached.has(operation)).map((operation) => `${operation.method} ${operation.path}`);
}
