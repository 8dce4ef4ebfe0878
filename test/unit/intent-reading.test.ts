/**
 * The offline author's reading of intents (compromise, pluralize, franc): resources and
 * their singulars, the droplet's name, the fallback for intents it cannot read, fields
 * that fit the words, references, and honest coverage.
 */
import { describe, expect, it } from 'vitest';
import { INTENTS } from '../../bench/intent-fit.js';
import { MAX_RESOURCES, dropletNameOf, planDroplet, readIntent } from '../../src/authors/offline/index.js';
import type { FieldPlan } from '../../src/authors/offline/fields.js';
import { DROPLET_NAME, fallbackDropletName } from '../../src/domain/naming.js';

const droplet = { dropletId: 7, name: 'under-test' };
const plan = (intent: string) => planDroplet(intent, droplet);
const resources = (intent: string) => plan(intent).resources.map((resource) => [resource.plural, resource.singular]);
const fieldsOf = (intent: string, plural: string): FieldPlan[] => {
  const resource = plan(intent).resources.find((candidate) => candidate.plural === plural);
  if (!resource) throw new Error(`no resource ${plural} in ${JSON.stringify(resources(intent))}`);
  return resource.fields;
};
const field = (intent: string, plural: string, name: string): FieldPlan | undefined => fieldsOf(intent, plural).find((candidate) => candidate.name === name);

describe('resources and their singulars', () => {
  it.each([
    ['Track warehouses, products and stock levels per warehouse', [['warehouses', 'warehouse'], ['products', 'product'], ['stock-levels', 'stock-level']]],
    ['Build Analytics Engine for tracking droplet metrics and performance', [['metrics', 'metric'], ['performance', 'performance']]],
    ['Build a blog engine for posts, comments and authors', [['posts', 'post'], ['comments', 'comment'], ['authors', 'author']]],
    ['make me a thing for tracking my plants', [['plants', 'plant']]],
    ['Build a bookmark service that stores links with tags', [['bookmarks', 'bookmark']]],
    ['Build a recipe catalogue with ingredients and cooking times', [['recipes', 'recipe']]],
    ['Build a contact book for people with names and emails', [['people', 'person']]],
    ['Build a tracker for order statuses and product categories', [['order-statuses', 'order-status'], ['product-categories', 'product-category']]],
    ['Build Parking Finder for open spaces nearby', [['spaces', 'space']]],
    ['Build a todo list', [['todos', 'todo']]],
    ['Log workouts with a duration and a date', [['workouts', 'workout']]],
    ['Service to store user feedback with a rating from 1 to 5', [['user-feedback', 'user-feedback']]],
    ['I want to keep track of my books', [['books', 'book']]],
  ])('%s → %j', (intent, expected) => {
    expect(resources(intent)).toEqual(expected);
  });

  it(`keeps at most ${MAX_RESOURCES} resources and says which nouns it left out`, () => {
    const intent = 'Build a school service for students, teachers, classes, rooms, grades, parents and buses';
    expect(MAX_RESOURCES).toBe(5);
    expect(resources(intent).map(([pluralName]) => pluralName)).toEqual(['students', 'teachers', 'classes', 'rooms', 'grades']);
    expect(plan(intent).coverage.not_covered).toEqual(['parents', 'buses']);
  });

  it('never uses a UDC path or a general word as a resource', () => {
    for (const intent of ['Build a tool for health and state', 'Build a service that stores data and things']) {
      expect(resources(intent)).toEqual([['items', 'item']]);
      expect(plan(intent).coverage.covered).toEqual([]);
    }
  });

  it('gives kebab-case URL segments', () => {
    for (const intent of INTENTS) {
      for (const resource of plan(intent).resources) {
        expect(resource.plural).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
        expect(resource.singular).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      }
    }
  });
});

describe('the droplet name', () => {
  it.each([
    ['make me a thing for tracking my plants', 'plant-tracker'],
    ['Build a bookmark service that stores links with tags', 'bookmark-service'],
    ['Build a rate limiter service that other droplets call before hitting external APIs', 'rate-limiter-service'],
    ['Build a notification hub that fans out messages to email and slack', 'notification-hub'],
    ['Track warehouses, products and stock levels per warehouse', 'warehouse-tracker'],
    ['Build Analytics Engine for tracking droplet metrics and performance', 'analytics-engine'],
    ['Build Parking Finder for open spaces nearby', 'parking-finder'],
    ['I need an app to manage invoices', 'invoice-manager'],
    ['Create a simple service for my recipes', 'recipe-service'],
    ['I want to keep track of my books', 'book-tracker'],
    ['Log workouts with a duration and a date', 'workout-logger'],
    ['Build a todo list', 'todo-list'],
  ])('%s → %s', (intent, name) => {
    expect(dropletNameOf(intent)).toBe(name);
  });

  it.each([
    'Créer un service de gestion des factures',
    'Faire une application pour suivre mes plantes',
    'Erstelle einen Dienst für Rechnungen',
    'Bookkeeping',
    'make me a thing',
  ])('falls back to droplet-<hash> for an intent it cannot read: %s', (intent) => {
    const name = dropletNameOf(intent);
    expect(name).toBe(fallbackDropletName(intent));
    expect(name).toMatch(/^droplet-[0-9a-f]{6}$/);
  });

  it('gives the same fallback for the same intent and different ones for different intents', () => {
    expect(fallbackDropletName('Créer un service')).toBe(fallbackDropletName('  créer un   service '));
    expect(fallbackDropletName('Créer un service')).not.toBe(fallbackDropletName('Créer un autre service'));
  });

  it('is always a valid droplet name, whatever the intent', () => {
    const odd = ['Build 42 things', '!!!', 'Build the ultra-extraordinarily-long-named supercalifragilistic expialidocious management platform', '日本語のサービス', ...INTENTS];
    for (const intent of odd) {
      const name = dropletNameOf(intent);
      expect(name, intent).toMatch(DROPLET_NAME);
      expect(name.length, intent).toBeGreaterThanOrEqual(3);
      expect(name.length, intent).toBeLessThanOrEqual(50);
    }
  });
});

describe('fields that fit the words', () => {
  it('url and link', () => {
    const intent = 'Build a bookmark service that stores links with tags';
    expect(fieldsOf(intent, 'bookmarks').map((candidate) => [candidate.name, candidate.type, candidate.required])).toEqual([
      ['url', 'url', true],
      ['title', 'string', false],
      ['tags', 'tags', false],
    ]);
    expect(field('Build a reading list of books with a website and an image link', 'books', 'image_url')).toMatchObject({ type: 'url' });
    expect(field('Build a reading list of books with a website and an image link', 'books', 'website')).toMatchObject({ type: 'url' });
  });

  it('email and phone', () => {
    const intent = 'Build a supplier directory for suppliers with an email, a contact email and a phone number';
    expect(field(intent, 'suppliers', 'email')).toMatchObject({ type: 'email' });
    expect(field(intent, 'suppliers', 'contact_email')).toMatchObject({ type: 'email' });
    expect(field(intent, 'suppliers', 'phone_number')).toMatchObject({ type: 'string', maxLength: 50 });
  });

  it('dates and times', () => {
    const tasks = 'Build a task manager where tasks have due dates';
    expect(field(tasks, 'tasks', 'due_date')).toMatchObject({ type: 'date' });
    const vet = 'Build a vet clinic app for pets and appointments with an appointment date and a start time';
    expect(field(vet, 'appointments', 'appointment_date')).toMatchObject({ type: 'date' });
    expect(field(vet, 'appointments', 'start_time')).toMatchObject({ type: 'datetime' });
    const sensors = 'Build a sensor log where readings are recorded at set times';
    expect(field(sensors, 'readings', 'recorded_at')).toMatchObject({ type: 'datetime', required: false });
    expect(field('Build a recipe catalogue with cooking times', 'recipes', 'cooking_time_minutes')).toMatchObject({ type: 'integer' });
  });

  it('quantities and counts are integers, prices and amounts numbers', () => {
    const intent = 'Build an event booking service for tickets with prices, quantities, a seat count and an amount paid';
    expect(field(intent, 'tickets', 'quantity')).toMatchObject({ type: 'integer' });
    expect(field(intent, 'tickets', 'seat_count')).toMatchObject({ type: 'integer' });
    expect(field(intent, 'tickets', 'price')).toMatchObject({ type: 'number' });
    expect(field(intent, 'tickets', 'amount')).toMatchObject({ type: 'number' });
  });

  it('enums from listed options', () => {
    expect(field('Build a task manager where tasks have a priority (low/medium/high)', 'tasks', 'priority')).toMatchObject({
      type: 'string',
      enum: ['low', 'medium', 'high'],
    });
    expect(field('Build an issue board for bugs with a status (open, in progress or closed)', 'bugs', 'status')).toMatchObject({
      enum: ['open', 'in_progress', 'closed'],
    });
  });

  it('booleans', () => {
    const intent = 'Build an invoice tracker for invoices with a paid flag, an active flag and a done flag';
    for (const name of ['paid', 'active', 'done']) expect(field(intent, 'invoices', name)).toMatchObject({ type: 'boolean', required: false });
  });

  it('references: "stock levels per warehouse" names an existing warehouse', () => {
    const intent = 'Track warehouses, products and stock levels per warehouse';
    expect(fieldsOf(intent, 'stock-levels')).toEqual([
      { name: 'quantity', type: 'integer', required: true, description: 'How many there are.' },
      { name: 'warehouse_id', type: 'reference', references: 'warehouses', required: true, description: 'The warehouse this stock level belongs to.' },
    ]);
    // An owner the intent names only after "per" becomes a resource of its own.
    const sensors = 'Build a sensor log where readings per sensor are recorded at set times';
    expect(field(sensors, 'readings', 'sensor_id')).toMatchObject({ type: 'reference', references: 'sensors', required: true });
    expect(resources(sensors).map(([pluralName]) => pluralName)).toContain('sensors');
  });

  it('a colon lists what describes the record before it', () => {
    const intent = 'A droplet that records daily weather readings: temperature, humidity and rainfall per station';
    // A reading is a measurement: name, value, unit and tags come with its kind; the colon adds the rest.
    expect(fieldsOf(intent, 'weather-readings').map((candidate) => [candidate.name, candidate.type])).toEqual([
      ['name', 'string'],
      ['value', 'number'],
      ['unit', 'string'],
      ['tags', 'tags'],
      ['temperature', 'number'],
      ['humidity', 'number'],
      ['rainfall', 'number'],
      ['station_id', 'reference'],
    ]);
  });

  it('plural nouns of no known kind are lists of strings', () => {
    expect(field('Build a recipe catalogue with ingredients', 'recipes', 'ingredients')).toMatchObject({ type: 'tags' });
  });

  it('keeps names snake_case, unique, never id/created_at/updated_at, with at least one required field', () => {
    const extra = ['Build a log of visits with an id, a created at and an updated at date', 'Build a task manager where tasks have a done flag, a done flag and done'];
    for (const intent of [...INTENTS, ...extra]) {
      for (const resource of plan(intent).resources) {
        const names = resource.fields.map((candidate) => candidate.name);
        expect(new Set(names).size, `${intent}: ${names.join(',')}`).toBe(names.length);
        for (const name of names) {
          expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
          expect(['id', 'created_at', 'updated_at']).not.toContain(name);
        }
        expect(resource.fields.some((candidate) => candidate.required), `${intent}: ${resource.plural}`).toBe(true);
      }
    }
  });
});

describe('honest coverage', () => {
  it('says what a rate limiter cannot do, and that nothing of it is covered', () => {
    expect(readIntent('Build a rate limiter service that other droplets call before hitting external APIs').coverage).toEqual({
      covered: [],
      not_covered: ['rate limiter service', 'other droplets call before hitting external apis'],
    });
  });

  it('keeps the messages of a notification hub, and says it sends nothing', () => {
    expect(readIntent('Build a notification hub that fans out messages to email and slack').coverage).toEqual({
      covered: ['messages'],
      not_covered: ['notification hub', 'fans out messages to email and slack'],
    });
  });

  it('covers every part of an intent of records', () => {
    expect(readIntent('Track warehouses, products and stock levels per warehouse').coverage).toEqual({
      covered: ['warehouses', 'products', 'stock levels per warehouse'],
      not_covered: [],
    });
    expect(readIntent('Build a task manager where tasks have a priority (low/medium/high), due dates and a done flag').coverage).toEqual({
      covered: ['task manager', 'priority (low/medium/high)', 'due dates', 'done flag'],
      not_covered: [],
    });
  });

  it('quotes the whole intent it cannot read', () => {
    const intent = 'Créer un service de gestion des factures';
    expect(readIntent(intent)).toMatchObject({ readable: false, coverage: { covered: [], not_covered: [intent] } });
    expect(plan(intent).resources.map((resource) => resource.plural)).toEqual(['items']);
  });

  it('quotes behaviour from its verb and the verb\'s subject, not the whole clause', () => {
    expect(readIntent('I want to keep track of my books and the people I lend them to').coverage).toEqual({
      covered: ['books', 'people'],
      not_covered: ['the people i lend them to'],
    });
  });

  it('names the general words of a vague intent', () => {
    expect(readIntent('Build a service that stores data and things').coverage).toEqual({ covered: [], not_covered: ['data', 'things'] });
  });
});
