/** Step 2: the author writes docs/SPEC.md from the intent and the foundation files. */
import { StepError } from '../../domain/errors.js';
import type { SpecOutput } from '../../domain/step-outputs.js';
import { defineStep } from '../types.js';

export const specGenerationStep = defineStep({
  name: 'spec_generation',
  needs: ['intent'],
  uses: [],
  async run({ droplet, providers, signal, calls, needs, progress }) {
    const { intent } = needs.intent;
    const foundation = await providers.foundation();
    progress(`${providers.author.id} author is writing the SPEC`, { author: providers.author.id });
    const document = await providers.author.writeSpec({ intent, droplet, foundation }, { signal, calls });
    const spec = document.markdown.trim();
    if (spec.length === 0) throw new StepError('EMPTY_SPEC', 'The author returned an empty SPEC.');
    const output: SpecOutput = { spec: `${spec}\n` };
    return {
      details: {
        author: providers.author.id,
        characters: output.spec.length,
        sections: [...spec.matchAll(/^##\s+(.+)$/gm)].map((match) => match[1]!.trim()),
        // The approver at the after-SPEC gate reads it here.
        spec: output.spec,
      },
      output,
    };
  },
});
