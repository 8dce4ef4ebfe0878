/**
 * Step 7: registers the droplet with its provenance and a semver version (the first build
 * takes the droplet's own version, each rebuild bumps the minor), in the executor's
 * directory and, when it was deployed, in the fleet registry; then records the version as
 * the git tag `v<version>` on the verified commit. The build id makes a second run a no-op.
 */
import { nextVersion, versionTag } from '../../domain/registration.js';
import type { Provenance } from '../../domain/ports/fleet-registry.js';
import type { RegisteredDroplet } from '../../domain/registration.js';
import { defineStep } from '../types.js';
import { gatherProvenance } from './provenance.js';

async function packageVersion(read: () => Promise<{ content: string }[]>): Promise<string | undefined> {
  const [file] = await read();
  if (!file) return undefined;
  try {
    const version = (JSON.parse(file.content) as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

function registrationDocument(registryId: string, droplet: RegisteredDroplet, provenance: Provenance, fleetEntry: number | null): string {
  const acceptance = provenance.acceptance ? `${provenance.acceptance.passed}/${provenance.acceptance.total} passed` : 'none run';
  const approvals = provenance.approvals?.map((approval) => `${approval.gate} ${approval.decision} at ${approval.at}`).join('; ') || 'none (auto)';
  return [
    '# Registration',
    '',
    `- Registry: ${registryId}${fleetEntry === null ? ' (not in the fleet registry: not deployed)' : ` (fleet entry #${fleetEntry})`}`,
    `- Droplet: #${droplet.dropletId} ${droplet.name}`,
    `- Version: ${droplet.version} (tag ${provenance.tag})`,
    `- URL: ${droplet.url ?? 'not deployed'}`,
    `- Host: ${droplet.host ?? 'none'}`,
    `- Capabilities: ${droplet.capabilities.join(', ') || 'none declared'}`,
    `- Build: ${provenance.build_id}`,
    `- Commit: ${provenance.commit}`,
    `- SPEC sha256: ${provenance.spec_sha256 ?? 'unknown'}`,
    `- Acceptance: ${acceptance}`,
    `- Approvals: ${approvals}`,
    `- Author: ${provenance.author?.id ?? 'unknown'}${provenance.author?.model ? ` (${provenance.author.model})` : ''}`,
    `- Model cost: $${(provenance.cost_usd ?? 0).toFixed(4)}`,
    '',
  ].join('\n');
}

export const registryUpdateStep = defineStep({
  name: 'registry_update',
  needs: ['verifier'],
  uses: ['deployer', 'spec_generation'],
  async run(context) {
    const { build, droplet, providers, needs, uses, recordDocument } = context;
    const verified = needs.verifier;
    const deployment = uses.deployer;
    const repo = providers.workspace.repoFor(droplet);
    const own = verified.report.observed?.version ?? (await packageVersion(() => repo.readFiles(['package.json'])));
    const version = nextVersion(await providers.registry.lastRegistration(droplet.dropletId), build.id, own);
    const tag = versionTag(version);
    const provenance = await gatherProvenance(context, { verified, deployment, spec: uses.spec_generation, tag });
    const { droplet: registered, changed, fleet } = await providers.registry.register({
      dropletId: droplet.dropletId,
      name: droplet.name,
      url: deployment?.url ?? null,
      host: deployment?.host ?? null,
      version,
      capabilities: verified.report.observed?.capabilities ?? [],
      buildId: build.id,
      commit: verified.commit,
      provenance,
    });
    // Tagged once registered: a refused registration leaves no tag to clash with the next build's.
    await repo.tag(tag, `${droplet.name} ${version} (build ${build.id})`, verified.commit);
    await recordDocument(
      'docs/REGISTRATION.md',
      registrationDocument(providers.registry.id, registered, provenance, fleet?.entryId ?? null),
      `registry: register #${registered.dropletId} ${registered.name} ${registered.version}`,
    );
    return {
      details: {
        registry: providers.registry.id,
        droplet_id: registered.dropletId,
        url: registered.url,
        host: registered.host ?? null,
        version: registered.version,
        tag,
        capabilities: registered.capabilities,
        changed,
        fleet_entry_id: fleet?.entryId ?? null,
        provenance,
      },
      output: { dropletId: registered.dropletId },
    };
  },
});
