/**
 * `docs/openapi.json`: parsed, validated against the OpenAPI 3.1 schema by
 * @apidevtools/swagger-parser ($refs resolved), and checked for what the executor needs
 * of it: the five UDC endpoints, and an example for every request body.
 */
import { openApiSchemaProblem } from './openapi-schema.js';
import { API_METHODS, isUdcOperation, UDC_OPERATIONS, type ApiMethod, type ApiOperation } from '../domain/api-description.js';

/** The parts of a dereferenced OpenAPI 3.1 operation read here; everything else is passed over. */
interface MediaObject {
  schema?: unknown;
  example?: unknown;
  examples?: Record<string, unknown>;
}
interface OperationObject {
  operationId?: string;
  summary?: string;
  requestBody?: { content?: Record<string, MediaObject> };
  responses?: Record<string, { content?: Record<string, MediaObject> }>;
}
type PathItem = Partial<Record<Lowercase<ApiMethod>, OperationObject>>;

export interface DocumentedOperation extends ApiOperation {
  /** The operation as the document has it, $refs resolved. */
  definition: OperationObject;
}

export interface ApiDescription {
  operations: DocumentedOperation[];
}

export type ApiDescriptionParse = { ok: true; api: ApiDescription } | { ok: false; reason: string };

const FILE = 'docs/openapi.json';

function operationsOf(paths: Record<string, PathItem>): DocumentedOperation[] {
  return Object.entries(paths).flatMap(([path, item]) =>
    API_METHODS.flatMap((method) => {
      const definition = item[method.toLowerCase() as Lowercase<ApiMethod>];
      if (!definition) return [];
      return [{
        method,
        path,
        operation_id: definition.operationId ?? null,
        summary: definition.summary ?? null,
        udc: isUdcOperation(method, path),
        definition,
      }];
    }),
  );
}

function hasExample(media: MediaObject): boolean {
  return media.example !== undefined || Object.keys(media.examples ?? {}).length > 0;
}

/** The first thing the executor needs that the (schema-valid) document lacks. */
function missingPart(operations: readonly DocumentedOperation[]): string | null {
  for (const udc of UDC_OPERATIONS) {
    if (!operations.some((operation) => operation.method === udc.method && operation.path === udc.path)) {
      return `${FILE} does not list the UDC endpoint ${udc.method} ${udc.path}`;
    }
  }
  for (const operation of operations) {
    const media = operation.definition.requestBody?.content?.['application/json'];
    if (operation.definition.requestBody && !media) return `${FILE}: ${operation.method} ${operation.path} takes a body that is not application/json`;
    if (media && !hasExample(media)) return `${FILE}: ${operation.method} ${operation.path} takes a body but gives no example of it`;
  }
  return null;
}

/** How deep and how large a document may be: a SPEC's API is a few hundred nodes, a few levels deep. */
const MAX_DEPTH = 64;
const MAX_NODES = 200_000;

/**
 * Why the document cannot be used as it is, or null: too deep or too large to walk, or a
 * `$ref` that points outside it (the executor reads no file or URL an author names).
 * Walked without recursion, so no document can overflow the stack.
 */
function shapeProblem(document: unknown): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value: document, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    nodes += 1;
    if (nodes > MAX_NODES) return `is larger than ${MAX_NODES} objects and arrays`;
    if (depth > MAX_DEPTH) return `nests deeper than ${MAX_DEPTH} levels`;
    const ref = (value as Record<string, unknown>).$ref;
    if (!Array.isArray(value) && typeof ref === 'string' && !ref.startsWith('#')) {
      return `refers outside itself ($ref ${JSON.stringify(ref)}); keep every schema in the document`;
    }
    for (const item of Array.isArray(value) ? value : Object.values(value)) stack.push({ value: item, depth: depth + 1 });
  }
  return null;
}

/** Parses the text of `docs/openapi.json`; the reason names the first problem. Never throws. */
export async function parseApiDescription(text: string): Promise<ApiDescriptionParse> {
  try {
    return await parseDocument(text);
  } catch (error) {
    return { ok: false, reason: `${FILE} could not be checked: ${(error as Error).message}` };
  }
}

async function parseDocument(text: string): Promise<ApiDescriptionParse> {
  if (text.trim() === '') return { ok: false, reason: `${FILE} is missing or empty` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `${FILE} is not JSON (${(error as Error).message})` };
  }
  const version = (raw as { openapi?: unknown } | null)?.openapi;
  if (typeof version !== 'string' || !/^3\.1\.\d+$/.test(version)) {
    return { ok: false, reason: `${FILE} must be OpenAPI 3.1 ("openapi": "3.1.0"), not ${JSON.stringify(version ?? null)}` };
  }
  const shape = shapeProblem(raw);
  if (shape) return { ok: false, reason: `${FILE} ${shape}` };
  const schemaProblem = openApiSchemaProblem(raw);
  if (schemaProblem) return { ok: false, reason: `${FILE} is not a valid OpenAPI 3.1 document: ${schemaProblem}` };
  let document: { paths?: Record<string, PathItem> };
  try {
    // swagger-parser checks the spec's own rules (unique operation ids, path parameters…) and resolves the $refs.
    // Loaded on the first check, not at the service's start-up.
    const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
    document = (await SwaggerParser.validate(raw as never, { resolve: { external: false, file: false, http: false }, validate: { schema: false, spec: true } })) as typeof document;
  } catch (error) {
    return { ok: false, reason: `${FILE} is not a valid OpenAPI 3.1 document: ${(error as Error).message.replace(/\s+/g, ' ').trim()}` };
  }
  const operations = operationsOf(document.paths ?? {});
  const missing = missingPart(operations);
  return missing ? { ok: false, reason: missing } : { ok: true, api: { operations } };
}

/** The JSON schema the document gives for an answer: exact status, then `4XX`-style, then `default`. */
export function responseSchemaFor(operation: DocumentedOperation, status: number): { documented: boolean; schema?: unknown } {
  const responses = operation.definition.responses ?? {};
  const response = responses[String(status)] ?? responses[`${Math.floor(status / 100)}XX`] ?? responses.default;
  if (!response) return { documented: false };
  const schema = response.content?.['application/json']?.schema;
  return schema === undefined ? { documented: true } : { documented: true, schema };
}
