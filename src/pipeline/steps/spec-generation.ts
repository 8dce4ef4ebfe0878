/**
 * Step 2: the author writes docs/SPEC.md from the intent and the foundation files, with
 * its proof beside it (docs/openapi.json, docs/acceptance.json). The proof is checked
 * here; an invalid one goes back to the author once, with the reason.
 */
import type { IntentCoverage } from '../../domain/coverage.js';
import { StepError } from '../../domain/errors.js';
import type { SpecDocument, SpecRequest } from '../../domain/ports/author.js';
import type { SpecProof } from '../../domain/ports/verifier.js';
import type { SpecOutput } from '../../domain/step-outputs.js';
import { defineStep, type StepContext } from '../types.js';

type SpecContext = StepContext<'intent', never>;

/** The SPEC and its checked proof; a second invalid proof fails the step. */
async function writeCheckedSpec(context: SpecContext, request: SpecRequest): Promise<{ document: SpecDocument; proof: SpecProof }> {
  const { providers, signal, calls, progress } = context;
  let document = await providers.author.writeSpec(request, { signal, calls });
  let check = await providers.verifier.checkSpecProof(document);
  if (!check.ok) {
    progress('the SPEC\'s proof files are invalid; asking the author again with the reason', { reason: check.reason });
    document = await providers.author.writeSpec({ ...request, previousAnswerError: check.reason }, { signal, calls });
    check = await providers.verifier.checkSpecProof(document);
    if (!check.ok) throw new StepError('INVALID_SPEC_PROOF', `The SPEC's proof files are still invalid after one send-back: ${check.reason}`, { reason: check.reason });
  }
  return { document, proof: check.proof };
}

/** In auto mode nobody reviews the SPEC: one that serves nothing of the intent must not ship. */
function refuseUncovered(mode: string, coverage: IntentCoverage | undefined): void {
  if (mode !== 'auto' || !coverage || coverage.covered.length > 0) return;
  const words = coverage.not_covered.map((phrase) => `"${phrase}"`).join(', ') || 'none of its words';
  throw new StepError('INTENT_NOT_COVERED', `The author could not map any part of the intent to something it builds (it could not use ${words}); rephrase the intent, or build with approval_mode "checkpoints" to review the SPEC.`, {
    intent_coverage: coverage,
  });
}

export const specGenerationStep = defineStep({
  name: 'spec_generation',
  needs: ['intent'],
  uses: [],
  async run(context) {
    const { build, droplet, providers, needs, progress } = context;
    const foundation = await providers.foundation();
    progress(`${providers.author.id} author is writing the SPEC`, { author: providers.author.id });
    const { document, proof } = await writeCheckedSpec(context, { intent: needs.intent.intent, droplet, foundation });
    const spec = document.markdown.trim();
    if (spec.length === 0) throw new StepError('EMPTY_SPEC', 'The author returned an empty SPEC.');
    refuseUncovered(build.approvalMode, document.coverage);
    const output: SpecOutput = {
      spec: `${spec}\n`,
      openapi: document.openapi,
      acceptance: document.acceptance,
      ...(document.coverage ? { coverage: document.coverage } : {}),
    };
    return {
      details: {
        author: providers.author.id,
        characters: output.spec.length,
        sections: [...spec.matchAll(/^##\s+(.+)$/gm)].map((match) => match[1]!.trim()),
        // The approver at the after-SPEC gate reads these here.
        spec: output.spec,
        scenarios: proof.scenarios,
        operations: proof.operations,
        ...(document.coverage ? { intent_coverage: document.coverage } : {}),
      },
      output,
    };
  },
});
