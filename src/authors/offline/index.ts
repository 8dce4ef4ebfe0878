export { OfflineAuthor } from './author.js';
export { planDroplet, deriveResourceNames, type DropletPlan, type ResourcePlan } from './plan.js';
export { installedFastifyVersion } from './fastify-version.js';
