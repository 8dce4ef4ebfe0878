// @ts-check
// The whole suite in one process: `npm test` runs this file, which loads the others, so
// Node and Fastify start once instead of once per file (about 1 s instead of 3 s).
import './config.test.js';
import './udc.test.js';
import './resources.test.js';
import './lists.test.js';
import './references.test.js';
import './persistence.test.js';
