/**
 * The fields of a resource: what the intent said about it ("with tags", "a priority
 * (low/medium/high)", "per warehouse", "recorded at"), on top of a few well-known kinds
 * of record and a general default.
 */
import { valueKindOf, type ValueKind } from './intent/field-kinds.js';
import { plural, singular } from './intent/phrases.js';
import type { AttributeReading, ResourceReading } from './intent/reading.js';

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

const nameField = (what: string): FieldPlan => ({
  name: 'name',
  type: 'string',
  required: true,
  maxLength: 200,
  description: `Name of the ${what}.`,
});
const titleField = (what: string, required: boolean): FieldPlan => ({
  name: 'title',
  type: 'string',
  required,
  maxLength: 200,
  description: `What the ${what} is.`,
});
const tagsField: FieldPlan = { name: 'tags', type: 'tags', required: false, description: 'Free labels for grouping and filtering.' };

interface RecordKind {
  nouns: readonly string[];
  fields: (what: string) => FieldPlan[];
}

/** Records whose kind says what they hold, by their head noun (singular). */
const KINDS: readonly RecordKind[] = [
  {
    nouns: ['metric', 'measurement', 'reading', 'performance', 'score', 'stat', 'statistic', 'usage', 'latency', 'sample', 'kpi'],
    fields: (what) => [
      nameField(what),
      { name: 'value', type: 'number', required: true, description: 'The measured value.' },
      { name: 'unit', type: 'string', required: false, maxLength: 50, description: 'Unit of the value, e.g. `ms` or `requests`.' },
      tagsField,
    ],
  },
  {
    nouns: ['event', 'alert', 'notification', 'incident', 'log', 'message', 'report', 'audit'],
    fields: (what) => [
      { name: 'title', type: 'string', required: true, maxLength: 200, description: `Short summary of the ${what}.` },
      { name: 'severity', type: 'string', required: false, enum: ['info', 'warning', 'error', 'critical'], description: 'How urgent it is.' },
      { name: 'details', type: 'string', required: false, maxLength: 5000, description: 'Longer description.' },
      tagsField,
    ],
  },
  {
    nouns: ['task', 'job', 'todo', 'issue', 'ticket', 'request', 'order', 'step', 'chore', 'errand'],
    fields: (what) => [
      titleField(what, true),
      { name: 'done', type: 'boolean', required: false, description: 'Whether it is finished.' },
      { name: 'notes', type: 'string', required: false, maxLength: 5000, description: 'Free notes.' },
      tagsField,
    ],
  },
  {
    nouns: ['user', 'contact', 'customer', 'member', 'person', 'account', 'subscriber', 'author', 'client', 'employee', 'student'],
    fields: (what) => [
      nameField(what),
      { name: 'email', type: 'email', required: false, description: 'Email address.' },
      { name: 'role', type: 'string', required: false, maxLength: 100, description: `Role of the ${what}.` },
      tagsField,
    ],
  },
  {
    nouns: ['level', 'stock', 'inventory', 'quantity', 'balance', 'count', 'tally'],
    fields: () => [{ name: 'quantity', type: 'integer', required: true, description: 'How many there are.' }],
  },
  {
    nouns: ['link', 'bookmark', 'url', 'website', 'favorite', 'favourite'],
    fields: (what) => [
      { name: 'url', type: 'url', required: true, description: `Where the ${what} points.` },
      titleField(what, false),
      tagsField,
    ],
  },
];

const RESERVED_FIELDS = new Set(['id', 'created_at', 'updated_at']);
const snake = (words: readonly string[]): string => words.join('_').replace(/[^a-z0-9_]/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '');

/** The field's name: "due dates" → `due_date`, "image link" → `image_url`, "a done flag" → `done`. */
function fieldName(words: readonly string[], kind: ValueKind | null, listed: boolean): string {
  const modifiers = words.slice(0, -1);
  const head = words.at(-1)!;
  if (kind === 'url' && ['link', 'url', 'uri', 'href'].includes(head)) return snake([...modifiers, 'url']);
  if (kind === 'boolean' && head === 'flag' && modifiers.length > 0) return snake(modifiers);
  if (kind === 'tags' && ['tag', 'label', 'keyword', 'hashtag'].includes(head)) return snake([...modifiers, plural(head)]);
  if (kind === 'duration') return ['minute', 'hour'].includes(head) ? snake([...modifiers, plural(head)]) : snake([...words, 'minutes']);
  if (listed) return snake([...modifiers, plural(head)]);
  return snake(words);
}

/** The field an attribute phrase gives, or null when it names nothing a field can hold. */
function attributeField(attribute: AttributeReading, record: string): FieldPlan | null {
  const { phrase, primary } = attribute;
  const words = phrase.words.map((word, index) => (index === phrase.words.length - 1 ? singular(word) : word));
  const kind = phrase.options ? null : valueKindOf(words);
  // A plural noun of no known kind ("ingredients") is a list of short strings.
  const listed = kind === null && !phrase.options && phrase.plural;
  const name = fieldName(words, kind, listed);
  if (!/^[a-z][a-z0-9_]{0,49}$/.test(name) || RESERVED_FIELDS.has(name)) return null;
  const base = { name, required: primary, description: `The ${phrase.text} of the ${record}.` };
  if (phrase.options) return { ...base, type: 'string', enum: phrase.options, description: `One of ${phrase.options.join(', ')}.` };
  switch (kind) {
    case 'url':
    case 'email':
    case 'date':
    case 'datetime':
    case 'integer':
    case 'number':
    case 'boolean':
    case 'tags':
      return { ...base, type: kind };
    case 'duration':
      return { ...base, type: 'integer', description: `The ${phrase.text} of the ${record}, in minutes.` };
    case 'text':
      return { ...base, type: 'string', maxLength: 5000 };
    case 'phone':
      return { ...base, type: 'string', maxLength: 50 };
    case 'title':
    case null:
      return listed ? { ...base, type: 'tags' } : { ...base, type: 'string', maxLength: 200 };
  }
}

/** The fields a record has before the intent describes it: its kind's, or a name, a description and tags. */
function defaultFields(resource: ResourceReading, described: boolean): FieldPlan[] {
  const head = resource.singular.split('-').at(-1)!;
  const kind = KINDS.find((candidate) => candidate.nouns.includes(head) || candidate.nouns.includes(resource.singular));
  const what = resource.singular.replace(/-/g, ' ');
  if (kind) return kind.fields(what);
  if (resource.attributes.some((attribute) => attribute.primary)) return [titleField(what, false)];
  return described ? [nameField(what)] : [nameField(what), { name: 'description', type: 'string', required: false, maxLength: 5000, description: `What the ${what} is.` }, tagsField];
}

/**
 * Fields of one record; every record also carries `id`, `created_at` and `updated_at`.
 * Names are snake_case and unique; a field the intent describes replaces a default of
 * the same name; a record always has at least one required field.
 */
export function fieldsFor(resource: ResourceReading): FieldPlan[] {
  const what = resource.singular.replace(/-/g, ' ');
  const described = resource.attributes.length + resource.owners.length + resource.timestamps.length > 0;
  const fields = new Map(defaultFields(resource, described).map((field) => [field.name, field]));
  const add = (field: FieldPlan | null): void => {
    if (!field) return;
    const known = fields.get(field.name);
    // A default keeps its place and its being required; what the intent says of it wins.
    fields.set(field.name, known ? { ...field, required: field.required || known.required } : field);
  };
  for (const attribute of resource.attributes) add(attributeField(attribute, what));
  for (const owner of resource.owners) {
    const ownerWords = singular(owner).split('-');
    add({ name: snake([...ownerWords, 'id']), type: 'reference', references: owner, required: true, description: `The ${ownerWords.join(' ')} this ${what} belongs to.` });
  }
  for (const participle of resource.timestamps) add({ name: `${participle}_at`, type: 'datetime', required: false, description: `When the ${what} was ${participle}.` });
  const all = [...fields.values()];
  if (!all.some((field) => field.required)) {
    if (all.length === 0) return [nameField(what)];
    all[0] = { ...all[0]!, required: true };
  }
  return all;
}
