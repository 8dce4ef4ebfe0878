export { OfflineAuthor } from './author.js';
export { planDroplet, MAX_RESOURCES, type DropletPlan, type ResourcePlan } from './plan.js';
export { readIntent, type IntentReading } from './intent/reading.js';
export { IntentDropletNamer, dropletNameOf } from './intent/namer.js';
export { installedFastifyVersion } from './fastify-version.js';
