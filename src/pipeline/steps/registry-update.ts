/** Step 7: records the droplet in the registry; the build id makes a second run a no-op. */
import { defineStep } from '../types.js';

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

export const registryUpdateStep = defineStep({
  name: 'registry_update',
  needs: ['verifier'],
  uses: ['deployer'],
  async run({ build, droplet, providers, needs, uses, recordDocument }) {
    const verified = needs.verifier;
    const deployment = uses.deployer;
    const repo = providers.workspace.repoFor(droplet);
    const version =
      verified.report.observed?.version ?? (await packageVersion(() => repo.readFiles(['package.json']))) ?? '0.0.0';
    const { droplet: registered, changed } = await providers.registry.register({
      dropletId: droplet.dropletId,
      name: droplet.name,
      url: deployment?.url ?? null,
      host: deployment?.host ?? null,
      version,
      capabilities: verified.report.observed?.capabilities ?? [],
      buildId: build.id,
      commit: verified.commit,
    });
    await recordDocument(
      'docs/REGISTRATION.md',
      `# Registration\n\n- Registry: ${providers.registry.id}\n- Droplet: #${registered.dropletId} ${registered.name}\n- Version: ${registered.version}\n- URL: ${registered.url ?? 'not deployed'}\n- Host: ${registered.host ?? 'none'}\n- Capabilities: ${registered.capabilities.join(', ') || 'none declared'}\n- Build: ${build.id}\n`,
      `registry: register #${registered.dropletId} ${registered.name} ${registered.version}`,
    );
    return {
      details: {
        registry: providers.registry.id,
        droplet_id: registered.dropletId,
        url: registered.url,
        host: registered.host ?? null,
        version: registered.version,
        capabilities: registered.capabilities,
        changed,
      },
      output: { dropletId: registered.dropletId },
    };
  },
});
