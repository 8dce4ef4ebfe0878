/**
 * The OpenAPI document held against the running droplet: every business operation it
 * lists is exercised by an acceptance step, and every answer seen during the acceptance
 * run matches the schema the document gives for that operation and status.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import type { RegExpLike } from 'ajv/dist/types/index.js';
import addFormats from 'ajv-formats';
import { operationFor } from '../domain/api-description.js';
import type { ContractCheck } from '../domain/verification.js';
import { snippet } from './http-probe.js';
import { responseSchemaFor, type ApiDescription, type DocumentedOperation } from './openapi.js';

/** One request of the acceptance run and the droplet's answer. */
export interface AcceptanceExchange {
  method: string;
  /** As sent, placeholders filled. */
  path: string;
  status: number;
  /** The parsed body, undefined when it was not JSON (or empty). */
  json: unknown;
}

const SHOWN_PROBLEMS = 3;

/** A schema, its `$ref`s resolved, counted as the tree ajv compiles: past this it is refused, not compiled. */
const MAX_SCHEMA_NODES = 20_000;
const MAX_PATTERN_LENGTH = 500;
/** A group holding a repetition or an alternative, itself repeated: `(a+)+`, `(a|a)*` backtrack without end. */
const AMBIGUOUS_REPEAT = /\((?:[^()\\]|\\.)*[*+?}|](?:[^()\\]|\\.)*\)[*+?{]/;

/**
 * Schema patterns are the author's and the strings they test the droplet's: patterns
 * that can backtrack without end are refused before they run (the check runs on the
 * executor's own event loop).
 */
const guardedRegExp = Object.assign(
  (pattern: string, flags: string): RegExpLike => {
    if (pattern.length > MAX_PATTERN_LENGTH || AMBIGUOUS_REPEAT.test(pattern)) {
      throw new Error(`the pattern ${JSON.stringify(pattern.slice(0, 80))} could backtrack without end, so it is not run`);
    }
    return new RegExp(pattern, flags);
  },
  { code: 'new RegExp' },
);

/** Whether the schema, walked as the tree ajv would compile (shared parts counted each time), stays within the budget. */
function withinBudget(schema: unknown): boolean {
  const stack: unknown[] = [schema];
  let nodes = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    nodes += 1;
    // A recursive schema is endless as a tree, so it is over any budget too.
    if (nodes > MAX_SCHEMA_NODES) return false;
    const children: unknown[] = Array.isArray(value) ? (value as unknown[]) : Object.values(value as Record<string, unknown>);
    for (const child of children) stack.push(child);
  }
  return true;
}

function schemaValidator(): (schema: unknown) => ValidateFunction {
  // OpenAPI schemas carry `example`, `xml` and the like: not strict about unknown keywords.
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true, code: { regExp: guardedRegExp } });
  addFormats.default(ajv);
  const compiled = new Map<unknown, ValidateFunction>();
  return (schema) => {
    let validate = compiled.get(schema);
    if (!validate) {
      if (!withinBudget(schema)) throw new Error(`it is larger than ${MAX_SCHEMA_NODES} nodes with its $refs resolved, or recursive`);
      validate = ajv.compile(schema as object);
      compiled.set(schema, validate);
    }
    return validate;
  };
}

function exerciseCheck(api: ApiDescription, exchanges: readonly AcceptanceExchange[]): ContractCheck {
  const business = api.operations.filter((operation) => !operation.udc);
  const exercised = new Set(exchanges.map((exchange) => operationFor(api.operations, exchange.method, exchange.path)));
  const missed = business.filter((operation) => !exercised.has(operation)).map((operation) => `${operation.method} ${operation.path}`);
  return {
    name: 'openapi: every operation is exercised',
    passed: missed.length === 0,
    expected: `each of the ${business.length} business operations in docs/openapi.json is requested by an acceptance step`,
    got: missed.length === 0 ? `all ${business.length} were requested` : `not requested: ${missed.join(', ')}`,
  };
}

/** Why one answer departs from the document, or null when it matches. */
function answerProblem(operation: DocumentedOperation | null, exchange: AcceptanceExchange, validatorFor: (schema: unknown) => ValidateFunction): string | null {
  const request = `${exchange.method} ${exchange.path}`;
  if (!operation) return `${request} is not in docs/openapi.json`;
  const { documented, schema } = responseSchemaFor(operation, exchange.status);
  if (!documented) return `${request} answered ${exchange.status}, which ${operation.method} ${operation.path} does not document`;
  if (schema === undefined) return null;
  let validate: ValidateFunction;
  try {
    validate = validatorFor(schema);
  } catch (error) {
    return `the schema of ${operation.method} ${operation.path} ${exchange.status} cannot be compiled: ${(error as Error).message}`;
  }
  if (validate(exchange.json)) return null;
  const first = validate.errors?.[0];
  const where = first ? `${first.instancePath || '$'} ${first.message ?? 'is invalid'}` : 'does not match';
  return `${request} answered ${exchange.status} with a body where ${where} (${snippet(JSON.stringify(exchange.json) ?? 'no JSON', 120)})`;
}

function schemaCheck(api: ApiDescription, exchanges: readonly AcceptanceExchange[]): ContractCheck {
  const validatorFor = schemaValidator();
  const problems = exchanges.flatMap((exchange) => {
    const problem = answerProblem(operationFor(api.operations, exchange.method, exchange.path), exchange, validatorFor);
    return problem ? [problem] : [];
  });
  const more = problems.length > SHOWN_PROBLEMS ? `; and ${problems.length - SHOWN_PROBLEMS} more` : '';
  return {
    name: 'openapi: answers match the documented schemas',
    passed: problems.length === 0,
    expected: 'every answer of the acceptance run is documented in docs/openapi.json for its operation and status, and matches its schema',
    got: problems.length === 0 ? `all ${exchanges.length} answers matched` : `${problems.slice(0, SHOWN_PROBLEMS).join('; ')}${more}`,
  };
}

export function openApiChecks(api: ApiDescription, exchanges: readonly AcceptanceExchange[]): ContractCheck[] {
  return [exerciseCheck(api, exchanges), schemaCheck(api, exchanges)];
}
