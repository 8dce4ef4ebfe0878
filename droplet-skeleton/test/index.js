// @ts-check
// The whole suite in one process: `npm test` runs this file, which loads the others, so
// Node and Fastify start once instead of once per file (about 1 s instead of 3 s).
// The record tests run when plan.json plans records; the archetype's when it names one.
import { loadPlan } from '../src/plan.js';
import './config.test.js';
import './udc.test.js';
import './archetypes/index.js';

if (loadPlan().resources.length > 0) {
  await import('./resources.test.js');
  await import('./lists.test.js');
  await import('./references.test.js');
  await import('./persistence.test.js');
}
