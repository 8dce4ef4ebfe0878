/**
 * The JSON Schema of one planned field: what the droplet validates a request body
 * against and what its OpenAPI document promises. One function, so the two agree.
 */
import type { FieldPlan } from './fields.js';

export type JsonSchema = Record<string, unknown>;

const ID_SCHEMA: JsonSchema = { type: 'string', minLength: 1, maxLength: 100 };

export function fieldSchema(field: FieldPlan): JsonSchema {
  const described = (schema: JsonSchema): JsonSchema => ({ ...schema, description: field.description });
  switch (field.type) {
    case 'integer':
      return described({ type: 'integer' });
    case 'number':
      return described({ type: 'number' });
    case 'boolean':
      return described({ type: 'boolean' });
    case 'tags':
      return described({ type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 50 } });
    case 'url':
      return described({ type: 'string', format: 'uri', maxLength: field.maxLength ?? 2000 });
    case 'email':
      return described({ type: 'string', format: 'email', maxLength: field.maxLength ?? 254 });
    case 'datetime':
      return described({ type: 'string', format: 'date-time' });
    case 'date':
      return described({ type: 'string', format: 'date' });
    case 'reference':
      return described(ID_SCHEMA);
    case 'string':
      return field.enum
        ? described({ type: 'string', enum: field.enum })
        : described({ type: 'string', minLength: 1, maxLength: field.maxLength ?? 200 });
  }
}

/** Whether list routes filter on the field by equality (`?severity=error`): every scalar field. */
export function isFilterable(field: FieldPlan): boolean {
  return field.type !== 'tags';
}
