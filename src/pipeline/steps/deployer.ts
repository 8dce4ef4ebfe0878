/** Step 6: deploys the verified commit, health-gated; skipped when there is nowhere to deploy. */
import type { DeployTarget } from '../../domain/ports/deploy.js';
import type { DeployOutput } from '../../domain/step-outputs.js';
import { defineStep } from '../types.js';

export const deployerStep = defineStep({
  name: 'deployer',
  needs: ['verifier'],
  uses: [],
  skip: (build, providers) => (!build.autoDeploy ? 'auto_deploy is false' : providers.deployTarget ? null : 'DEPLOY_TARGET is none'),
  async run({ build, droplet, providers, signal, needs, progress, setLocations, recordDocument }) {
    // skip() said there is a target.
    const target = providers.deployTarget as DeployTarget;
    const verified = needs.verifier;

    const repo = providers.workspace.repoFor(droplet);
    // Ship the verified commit, not whatever the droplet's tests left in the tree.
    await repo.restoreWorkingTree();
    const deployment: DeployOutput = await target.deploy({
      releaseId: build.id,
      droplet,
      sourceDir: repo.path,
      commit: verified.commit,
      archive: (file) => repo.archive(verified.commit, file),
      host: build.deployHost,
      signal,
      onProgress: (message, data) => progress(message, data),
    });
    await repo.tag(`release-${build.id}`, `Deployed to ${target.id} at ${deployment.url}`);
    await recordDocument(
      'docs/DEPLOYMENT.md',
      `# Deployment\n\n- Release: ${build.id}\n- Target: ${target.id}\n- Host: ${deployment.host}\n- URL: ${deployment.url}\n- Commit: ${deployment.commit}\n- Supervisor: ${deployment.supervisor}\n`,
      `deploy: release ${build.id} on ${target.id}`,
    );
    await setLocations({ deploymentUrl: deployment.url });
    return {
      details: {
        target: target.id,
        host: deployment.host,
        url: deployment.url,
        supervisor: deployment.supervisor,
        pid: deployment.pid,
        port: deployment.port,
        commit: deployment.commit,
        reused: deployment.reused,
        child_process_ms: deployment.childProcessMs,
      },
      output: deployment,
    };
  },
});
