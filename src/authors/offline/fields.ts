/** The fields of a resource: a few well-known kinds of record, and a general default. */

/**
 * What a field holds, as the droplet validates it (see `field-schema.ts`):
 * `string` (free text, `maxLength`, or one of `enum`), `url`, `email`, `datetime`
 * (ISO 8601 time), `date` (YYYY-MM-DD), `integer`, `number`, `boolean`, `tags`
 * (a list of short strings), `reference` (the id of an existing record of the
 * resource named by `references`; 422 when there is none).
 */
export type FieldType = 'string' | 'url' | 'email' | 'datetime' | 'date' | 'integer' | 'number' | 'boolean' | 'tags' | 'reference';

export interface FieldPlan {
  name: string;
  type: FieldType;
  required: boolean;
  description: string;
  /** Strings only. */
  maxLength?: number;
  /** Strings only: the allowed values. */
  enum?: string[];
  /** References only: the plural of the resource whose id this field holds (`warehouses`). */
  references?: string;
}

const name = (what: string): FieldPlan => ({
  name: 'name',
  type: 'string',
  required: true,
  maxLength: 200,
  description: `Name of the ${what}.`,
});
const tags: FieldPlan = { name: 'tags', type: 'tags', required: false, description: 'Free labels for grouping and filtering.' };

interface RecordKind {
  nouns: readonly string[];
  fields: (what: string) => FieldPlan[];
}

const KINDS: readonly RecordKind[] = [
  {
    nouns: ['metric', 'measurement', 'reading', 'performance', 'score', 'stat', 'statistic', 'usage', 'latency', 'sample', 'kpi'],
    fields: (what) => [
      name(what),
      { name: 'value', type: 'number', required: true, description: 'The measured value.' },
      { name: 'unit', type: 'string', required: false, maxLength: 50, description: 'Unit of the value, e.g. `ms` or `requests`.' },
      tags,
    ],
  },
  {
    nouns: ['event', 'alert', 'notification', 'incident', 'log', 'message', 'report', 'audit'],
    fields: (what) => [
      { name: 'title', type: 'string', required: true, maxLength: 200, description: `Short summary of the ${what}.` },
      {
        name: 'severity',
        type: 'string',
        required: false,
        enum: ['info', 'warning', 'error', 'critical'],
        description: 'How urgent it is.',
      },
      { name: 'details', type: 'string', required: false, maxLength: 5000, description: 'Longer description.' },
      tags,
    ],
  },
  {
    nouns: ['task', 'job', 'todo', 'issue', 'ticket', 'request', 'order', 'step'],
    fields: (what) => [
      { name: 'title', type: 'string', required: true, maxLength: 200, description: `What the ${what} is.` },
      { name: 'done', type: 'boolean', required: false, description: 'Whether it is finished.' },
      { name: 'notes', type: 'string', required: false, maxLength: 5000, description: 'Free notes.' },
      tags,
    ],
  },
  {
    nouns: ['user', 'contact', 'customer', 'member', 'person', 'people', 'account', 'subscriber', 'author'],
    fields: (what) => [
      name(what),
      { name: 'email', type: 'string', required: false, maxLength: 254, description: 'Email address.' },
      { name: 'role', type: 'string', required: false, maxLength: 100, description: `Role of the ${what}.` },
      tags,
    ],
  },
];

/** Fields of one record; every record also carries `id`, `created_at` and `updated_at`. */
export function fieldsFor(plural: string, singular: string): FieldPlan[] {
  const kind = KINDS.find((candidate) => candidate.nouns.includes(singular) || candidate.nouns.includes(plural));
  if (kind) return kind.fields(singular);
  return [
    name(singular),
    { name: 'description', type: 'string', required: false, maxLength: 5000, description: `What the ${singular} is.` },
    tags,
  ];
}
