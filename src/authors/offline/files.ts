/** Every file of a generated droplet: the skeleton's files, and the few made from its plan. */
import type { RepoFile } from '../../domain/files.js';
import type { DropletDependencies } from './fastify-version.js';
import type { DropletPlan } from './plan.js';
import { skeletonFiles } from './skeleton.js';
import { shipsArchetypeFile } from './archetypes/project.js';
import { GITIGNORE, envExample, manifestJson, packageJson, planJson, readme } from './templates/project.js';

/** Sorted by path, so that the same plan always gives the same list. */
export function dropletFiles(plan: DropletPlan, dependencies: DropletDependencies): RepoFile[] {
  const files: RepoFile[] = [
    { path: 'package.json', content: packageJson(plan, dependencies) },
    { path: 'README.md', content: readme(plan) },
    { path: '.env.example', content: envExample(plan) },
    { path: '.gitignore', content: GITIGNORE },
    { path: 'src/manifest.json', content: manifestJson(plan) },
    { path: 'src/plan.json', content: planJson(plan) },
    ...skeletonFiles().filter((file) => shipsArchetypeFile(plan, file.path)),
  ];
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
