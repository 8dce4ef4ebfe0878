/** Small builders every archetype's OpenAPI part shares, over the UDC ones. */
import type { JsonSchema } from '../field-schema.js';
import { errorResponse, json, UNAUTHORIZED } from '../proof/udc-operations.js';

export { errorResponse, json, UNAUTHORIZED };

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A JSON answer described by a schema of `components.schemas`. */
export const answer = (description: string, schema: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: json(ref(schema)),
});

export const body = (schema: string, example: unknown) => ({ required: true, content: json(ref(schema), example) });

export const pathParameter = (name: string, schema: JsonSchema, description: string) => ({ name, in: 'path', required: true, description, schema });

export const queryParameter = (name: string, schema: JsonSchema, description: string, required = false) => ({ name, in: 'query', required, description, schema });

export const INVALID = errorResponse('The request is not valid.');
