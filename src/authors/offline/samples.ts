/**
 * Valid example values of planned fields: the bodies the generated tests, the
 * acceptance scenarios and the OpenAPI examples send. Deterministic.
 */
import type { FieldPlan } from './fields.js';
import type { ResourcePlan } from './plan.js';

export type SampleValue = string | number | boolean | string[];

/** Variant 0 is used to create a record, variant 1 to change it; the two always differ. */
export function sampleValue(field: FieldPlan, variant: 0 | 1): SampleValue {
  switch (field.type) {
    case 'integer':
      return variant === 0 ? 12 : 3;
    case 'number':
      return variant === 0 ? 42.5 : 7;
    case 'boolean':
      return variant === 0;
    case 'tags':
      return variant === 0 ? ['alpha', 'beta'] : ['gamma'];
    case 'url':
      return variant === 0 ? 'https://example.org/first' : 'https://example.com/second';
    case 'email':
      return variant === 0 ? 'ada@example.org' : 'grace@example.com';
    case 'datetime':
      return variant === 0 ? '2030-01-02T09:30:00.000Z' : '2031-06-15T17:45:00.000Z';
    case 'date':
      return variant === 0 ? '2030-01-02' : '2031-06-15';
    case 'reference':
      // A placeholder the scenario fills with the id of a record it created first.
      return `{{${field.name}}}`;
    case 'string':
      if (field.enum) return field.enum[variant % field.enum.length]!;
      return `${variant === 0 ? 'Example' : 'Changed'} ${field.name}`.slice(0, field.maxLength ?? 200);
  }
}

/** A valid record of the resource: variant 0 for creating, 1 for changing. */
export function sample(resource: ResourcePlan, variant: 0 | 1): Record<string, SampleValue> {
  return Object.fromEntries(resource.fields.map((field) => [field.name, sampleValue(field, variant)]));
}
