/** Step 4: the author writes every file of the droplet; each write is its own commit. */
import { StepError, throwIfAborted } from '../../domain/errors.js';
import { withoutSpecDocuments } from '../../domain/files.js';
import type { CodeOutput } from '../../domain/step-outputs.js';
import { authorWorkspace } from '../repair-context.js';
import { defineStep } from '../types.js';

export const apprenticeBuildStep = defineStep({
  name: 'apprentice_build',
  needs: ['intent', 'spec_generation'],
  uses: [],
  async run({ build, droplet, providers, signal, calls, needs, progress }) {
    const { spec } = needs.spec_generation;
    const { intent } = needs.intent;
    const repo = providers.workspace.repoFor(droplet);
    await repo.ensure();
    const foundation = await providers.foundation();

    progress(`${providers.author.id} author is writing the code`);
    const written = await providers.author.writeCode({ intent, droplet, spec, foundation, workspace: authorWorkspace(repo) }, { signal, calls });
    // The SPEC and its proof stay as the SPEC step wrote them: the droplet is verified against them.
    const { kept: changes, refused } = withoutSpecDocuments(written);
    if (refused.length > 0) progress(`left the SPEC's documents as approved; not written: ${refused.join(', ')}`, { refused });
    if (changes.length === 0) throw new StepError('NO_CODE', 'The author returned no files.');
    throwIfAborted(signal);
    // One commit per file, made in one pass; every path is checked before any is written.
    const results = await repo.commitEach(
      changes.map((change) => ({
        changes: [change],
        message: `feat: ${change.kind === 'write' ? 'add' : 'remove'} ${change.path}`,
        trailers: { step: 'apprentice_build', buildId: build.id },
      })),
    );
    changes.forEach((change, index) => {
      progress(`${change.kind === 'write' ? 'wrote' : 'removed'} ${change.path}`, { path: change.path, commit: results[index]?.sha ?? null });
    });
    const commits = results.filter((commit) => commit !== null);
    const files = changes.filter((change) => change.kind === 'write').map((change) => change.path);
    const output: CodeOutput = { files, head: await repo.head() };
    return { details: { author: providers.author.id, files, commits: commits.length }, output };
  },
});
