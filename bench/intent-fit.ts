/**
 * How well the offline author reads intents: 20 an architect might write (every bad fit
 * issue 9 reported among them), each planned as a build would plan it, printed with the
 * droplet's name, its archetype (if any), its resources and fields, and what of the intent
 * it covers and does not.
 *
 *   npx tsx bench/intent-fit.ts          a table per intent
 *   npx tsx bench/intent-fit.ts --json   the same as JSON
 */
import { pathToFileURL } from 'node:url';
import { IntentDropletNamer, planDroplet } from '../src/authors/offline/index.js';
import type { FieldPlan } from '../src/authors/offline/fields.js';

export const INTENTS: readonly string[] = [
  'Build a rate limiter service that other droplets call before hitting external APIs',
  'Build a notification hub that fans out messages to email and slack',
  'Build a bookmark service that stores links with tags',
  'Track warehouses, products and stock levels per warehouse',
  'Build a recipe catalogue with ingredients and cooking times',
  'make me a thing for tracking my plants',
  'Créer un service de gestion des factures pour mes clients',
  'Build Analytics Engine for tracking droplet metrics and performance',
  'Build a task manager where tasks have a priority (low/medium/high), due dates and a done flag',
  'Build a vet clinic app for pets, owners and appointments with an appointment date',
  'Build a sensor log where readings per sensor are recorded at set times',
  'Build an expense tracker for trips and expenses with amounts and a paid flag',
  'Build a URL shortener that redirects short codes and counts clicks',
  'Build a scheduler that runs jobs at a given time',
  'Build a contact book for people with names, emails and phone numbers',
  'Build a library catalogue for books, authors and loans per member',
  'Build a habit tracker where habits have a name, a frequency (daily/weekly/monthly) and an active flag',
  'Build an event booking service for events, venues and tickets with prices and quantities',
  'Build a reading list of books with a url, a rating and a finished flag',
  'Build a service registry where droplets register, send heartbeats and are looked up by name',
];

function fieldLine(field: FieldPlan): string {
  const kind = field.enum ? `enum(${field.enum.join('/')})` : field.type === 'reference' ? `→${field.references}` : field.type;
  return `${field.name}${field.required ? '*' : ''}:${kind}`;
}

function main(): void {
  const namer = new IntentDropletNamer();
  const rows = INTENTS.map((intent, index) => {
    const name = namer.nameFor(intent);
    const plan = planDroplet(intent, { dropletId: index + 1, name });
    return {
      intent,
      name,
      archetype: plan.archetype?.kind ?? null,
      resources: plan.resources.map((resource) => ({ path: `/${resource.plural}`, fields: resource.fields.map(fieldLine) })),
      covered: plan.coverage.covered,
      not_covered: plan.coverage.not_covered,
    };
  });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  for (const [index, row] of rows.entries()) {
    console.log(`\n${index + 1}. ${row.intent}\n   name: ${row.name}${row.archetype ? `, archetype: ${row.archetype}` : ''}`);
    for (const resource of row.resources) console.log(`   ${resource.path}  ${resource.fields.join(', ')}`);
    console.log(`   covered: ${row.covered.map((phrase) => `"${phrase}"`).join(', ') || '(nothing)'}`);
    console.log(`   not covered: ${row.not_covered.map((phrase) => `"${phrase}"`).join(', ') || '(nothing)'}`);
  }
  const served = rows.filter((row) => row.covered.length > 0).length;
  const whole = rows.filter((row) => row.covered.length > 0 && row.not_covered.length === 0).length;
  console.log(`\n${rows.length} intents: ${served} with something covered, ${whole} covered whole, ${rows.length - served} with nothing covered.`);
}

// Imported by the tests for its intents; run, it prints the table.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
