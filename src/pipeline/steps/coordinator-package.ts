/**
 * Step 3: the droplet's git repository, with the intent, the SPEC and the foundation
 * files, one commit each. An existing repository (a rebuild) is reused.
 */
import { pathToFileURL } from 'node:url';
import type { PackageOutput } from '../../domain/step-outputs.js';
import { defineStep } from '../types.js';

export const coordinatorPackageStep = defineStep({
  name: 'coordinator_package',
  needs: ['spec_generation'],
  uses: [],
  async run({ build, droplet, providers, needs, progress, setLocations }) {
    const { spec, openapi, acceptance } = needs.spec_generation;
    // The SPEC's proof sits beside it; SPECs saved before the proof existed have none.
    const proofFiles = [
      ...(openapi === undefined ? [] : [{ kind: 'write' as const, path: 'docs/openapi.json', content: openapi }]),
      ...(acceptance === undefined ? [] : [{ kind: 'write' as const, path: 'docs/acceptance.json', content: acceptance }]),
    ];
    const repo = providers.workspace.repoFor(droplet);
    await repo.ensure();
    await setLocations({ repositoryPath: repo.path, repositoryUrl: pathToFileURL(repo.path).href });
    progress('repository ready', { repository_path: repo.path });

    const trailers = (step: string) => ({ step, buildId: build.id });
    const intentDoc = `# Intent\n\n${build.intent.trim()}\n\n- Droplet: #${droplet.dropletId} ${droplet.name}\n- Build: ${build.id}\n`;
    const foundation = await providers.foundation();
    const commits = (
      await repo.commitEach([
        { changes: [{ kind: 'write', path: 'docs/INTENT.md', content: intentDoc }], message: 'docs: record the architect intent', trailers: trailers('intent') },
        {
          changes: [{ kind: 'write', path: 'docs/SPEC.md', content: spec }, ...proofFiles],
          message: proofFiles.length > 0 ? 'docs: add the SPEC, its OpenAPI description and its acceptance scenarios' : 'docs: add the SPEC',
          trailers: trailers('spec_generation'),
        },
        {
          changes: foundation.map((file) => ({ kind: 'write' as const, path: `docs/foundation/${file.path}`, content: file.content })),
          message: 'docs: add the foundation files this droplet is built against',
          trailers: trailers('coordinator_package'),
        },
      ])
    ).filter((commit) => commit !== null);

    const output: PackageOutput = { repositoryPath: repo.path, head: await repo.head() };
    return {
      details: {
        repository_path: repo.path,
        commits: commits.map((commit) => ({ sha: commit.sha, message: commit.message.split('\n')[0] })),
        files: ['docs/INTENT.md', 'docs/SPEC.md', ...proofFiles.map((file) => file.path), ...foundation.map((file) => `docs/foundation/${file.path}`)],
      },
      output,
    };
  },
});
