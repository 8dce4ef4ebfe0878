// @ts-check
// The tests of the droplet's archetype (test/archetypes/<kind>.test.js, the only one it ships).
import { loadPlan } from '../../src/plan.js';

const kind = loadPlan().archetype?.kind;
if (kind !== undefined) await import('./' + kind + '.test.js');
