/** Step 1: the intent is recorded and validated (the request was already checked at submit). */
import { DROPLET_NAME_PATTERN } from '../../domain/build.js';
import { StepError } from '../../domain/errors.js';
import type { IntentOutput } from '../../domain/step-outputs.js';
import { defineStep } from '../types.js';

export const intentStep = defineStep({
  name: 'intent',
  needs: [],
  uses: [],
  async run({ build }) {
    const intent = build.intent.trim();
    if (intent.length < 10) throw new StepError('INTENT_TOO_SHORT', 'The intent must say what to build in at least 10 characters.');
    if (!DROPLET_NAME_PATTERN.test(build.dropletName)) {
      throw new StepError('INVALID_DROPLET_NAME', `"${build.dropletName}" is not a kebab-case droplet name.`);
    }
    const output: IntentOutput = { intent };
    return {
      details: {
        droplet_id: build.dropletId,
        droplet_name: build.dropletName,
        approval_mode: build.approvalMode,
        auto_deploy: build.autoDeploy,
        intent_words: intent.split(/\s+/).length,
      },
      output,
    };
  },
});
