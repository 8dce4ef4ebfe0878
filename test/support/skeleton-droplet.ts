/**
 * Offline droplets written to disk from a plan, with the executor's own node_modules
 * linked in: the skeleton runs against the Fastify installed here, with no npm install.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { installedDropletDependencies } from '../../src/authors/offline/fastify-version.js';
import { dropletFiles } from '../../src/authors/offline/files.js';
import type { FieldPlan } from '../../src/authors/offline/fields.js';
import type { DropletPlan } from '../../src/authors/offline/plan.js';

const field = (name: string, type: FieldPlan['type'], extra: Partial<FieldPlan> = {}): FieldPlan => ({
  name,
  type,
  required: false,
  description: `The ${name}.`,
  ...extra,
});

/** Every field kind, and a reference from stock levels to warehouses. */
export const STOCK_PLAN: DropletPlan = {
  name: 'stock-keeper',
  dropletId: 21,
  title: 'Stock Keeper',
  purpose: 'Keeps warehouses and the stock levels per warehouse.',
  capabilities: ['warehouses_management', 'stock-levels_management', 'udc_messaging'],
  supportedOperations: ['list_warehouses', 'create_warehouse', 'list_stock-levels', 'create_stock-level', 'receive_message'],
  coverage: { covered: ['warehouses', 'stock levels per warehouse'], not_covered: [] },
  resources: [
    {
      plural: 'warehouses',
      singular: 'warehouse',
      fields: [
        field('name', 'string', { required: true, maxLength: 200 }),
        field('website', 'url'),
        field('email', 'email'),
        field('active', 'boolean'),
        field('tags', 'tags'),
      ],
    },
    {
      plural: 'stock-levels',
      singular: 'stock-level',
      fields: [
        field('warehouse_id', 'reference', { required: true, references: 'warehouses' }),
        field('quantity', 'integer', { required: true }),
        field('price', 'number'),
        field('priority', 'string', { enum: ['low', 'medium', 'high'] }),
        field('recorded_at', 'datetime'),
        field('due_date', 'date'),
      ],
    },
  ],
};

/** Writes the droplet of `plan` into `dir` and links the executor's node_modules there. */
export function writeSkeletonDroplet(dir: string, plan: DropletPlan = STOCK_PLAN): string {
  for (const file of dropletFiles(plan, installedDropletDependencies())) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.content);
  }
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}
