/**
 * Step 8: announces that the droplet is live (and what of the intent it does not serve)
 * on the build's channels. It waits for the first round of deliveries and shows every
 * attempt in its details; what is still undelivered keeps being retried in the
 * background and after a restart. The outbox keys each delivery by `<build id>:completed`
 * and channel, so a resumed step sends nothing twice. Delivery never fails the build.
 */
import { notCoveredSentence } from '../../domain/coverage.js';
import { CancelledError } from '../../domain/errors.js';
import type { DeliveryReport } from '../announcement.js';
import { defineStep } from '../types.js';
import { promoteCompleted } from './publish.js';

function line(report: DeliveryReport): string {
  const tries = `${report.attempts.length} attempt(s)`;
  const next = report.status === 'pending' && report.next_attempt_at ? `, retried from ${report.next_attempt_at}` : '';
  return `- ${report.channel}: ${report.status} after ${tries}${next} (${report.detail ?? 'not yet tried'})`;
}

export const completeStep = defineStep({
  name: 'complete',
  needs: ['verifier'],
  uses: ['deployer', 'spec_generation'],
  async run({ build, droplet, providers, signal, needs, uses, progress, recordDocument }) {
    const deployment = uses.deployer;
    // First, so the announcement goes out once the default branch holds what is live.
    const published = await promoteCompleted({ build, droplet, providers, progress }, needs.verifier.commit);
    const intentCoverage = uses.spec_generation?.coverage ?? null;
    const summary = [
      deployment
        ? `Droplet #${droplet.dropletId} ${droplet.name} is live at ${deployment.url} (verified in ${needs.verifier.attempts} attempt(s)).`
        : `Droplet #${droplet.dropletId} ${droplet.name} is built and verified (not deployed).`,
      notCoveredSentence(intentCoverage),
    ]
      .filter(Boolean)
      .join(' ');
    const deliveries = await providers.announcer.announce(
      { build, event: 'completed', summary, deploymentUrl: deployment?.url ?? null, intentCoverage },
      { wait: true, signal },
    );
    // Cancelled while waiting: the deliveries go on in the background; the step records nothing more.
    if (signal.aborted) throw new CancelledError();
    const lines = deliveries.length > 0 ? deliveries.map(line) : ['- no channel announces completions for this build'];
    await recordDocument('docs/NOTIFICATIONS.md', `# Notifications\n\n${summary}\n\n${lines.join('\n')}\n`, `notify: ${build.id}:completed`);
    return { details: { summary, deliveries, ...(intentCoverage && { intent_coverage: intentCoverage }), ...published } };
  },
});
