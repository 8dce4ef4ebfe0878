/** Every file of a generated droplet, from its plan. */
import type { RepoFile } from '../../domain/files.js';
import type { DropletPlan } from './plan.js';
import { acceptanceJson } from './templates/acceptance.js';
import { APP_JS, CRUD_JS, UDC_JS, resourceJs, resourcesIndexJs } from './templates/http.js';
import { GITIGNORE, envExample, manifestJs, packageJson, readme } from './templates/project.js';
import { resourceTestJs } from './templates/resource-tests.js';
import { CONFIG_JS, ERRORS_JS, METRICS_JS, SERVER_JS, STORE_JS } from './templates/runtime.js';
import { CONFIG_TEST_JS, udcTestJs } from './templates/udc-tests.js';

/** Sorted by path, so that the same plan always gives the same list. */
export function dropletFiles(plan: DropletPlan, fastifyVersion: string): RepoFile[] {
  const files: RepoFile[] = [
    { path: 'package.json', content: packageJson(plan, fastifyVersion) },
    { path: 'README.md', content: readme(plan) },
    { path: '.env.example', content: envExample(plan) },
    { path: '.gitignore', content: GITIGNORE },
    // What proves the droplet serves its resources: run by the verifier against the started droplet.
    { path: 'docs/acceptance.json', content: acceptanceJson(plan) },
    { path: 'src/server.js', content: SERVER_JS },
    { path: 'src/config.js', content: CONFIG_JS },
    { path: 'src/manifest.js', content: manifestJs(plan) },
    { path: 'src/app.js', content: APP_JS },
    { path: 'src/errors.js', content: ERRORS_JS },
    { path: 'src/udc.js', content: UDC_JS },
    { path: 'src/metrics.js', content: METRICS_JS },
    { path: 'src/store.js', content: STORE_JS },
    { path: 'src/crud.js', content: CRUD_JS },
    { path: 'src/resources/index.js', content: resourcesIndexJs(plan) },
    ...plan.resources.map((resource) => ({ path: `src/resources/${resource.plural}.js`, content: resourceJs(resource) })),
    { path: 'test/udc.test.js', content: udcTestJs(plan) },
    { path: 'test/config.test.js', content: CONFIG_TEST_JS },
    ...plan.resources.map((resource) => ({
      path: `test/resources/${resource.plural}.test.js`,
      content: resourceTestJs(resource),
    })),
  ];
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
