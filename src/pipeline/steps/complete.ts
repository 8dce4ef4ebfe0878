/**
 * Step 8: tells every configured channel the droplet is live, and what of the intent it
 * does not serve. Each delivery is remembered by `<build id>:build.completed`, so a
 * resumed step does not repeat it.
 */
import { notCoveredSentence } from '../../domain/coverage.js';
import type { DeliveryResult } from '../../domain/notification.js';
import { defineStep } from '../types.js';

export const completeStep = defineStep({
  name: 'complete',
  needs: ['verifier'],
  uses: ['deployer', 'spec_generation'],
  async run({ build, droplet, providers, signal, needs, uses, log, recordDocument }) {
    const deployment = uses.deployer;
    const verified = needs.verifier;
    const wanted = build.notifyChannels;
    const intentCoverage = uses.spec_generation?.coverage ?? null;
    const gaps = notCoveredSentence(intentCoverage);
    // `log` always speaks; the rest only when the request did not narrow the channels.
    const notifiers = providers.notifiers.filter((notifier) => notifier.channel === 'log' || !wanted || wanted.includes(notifier.channel));
    const notification = {
      deliveryId: `${build.id}:build.completed`,
      event: 'build.completed' as const,
      buildId: build.id,
      dropletId: droplet.dropletId,
      dropletName: droplet.name,
      deploymentUrl: deployment?.url ?? null,
      repositoryPath: build.repositoryPath,
      summary: [
        deployment
          ? `Droplet #${droplet.dropletId} ${droplet.name} is live at ${deployment.url} (verified in ${verified.attempts} attempt(s)).`
          : `Droplet #${droplet.dropletId} ${droplet.name} is built and verified (not deployed).`,
        gaps,
      ]
        .filter(Boolean)
        .join(' '),
      intentCoverage,
      completedAt: new Date().toISOString(),
    };
    const deliveries: DeliveryResult[] = [];
    for (const notifier of notifiers) {
      if (await providers.deliveries.wasDelivered(notification.deliveryId, notifier.channel)) {
        deliveries.push({ channel: notifier.channel, delivered: true, detail: 'already delivered' });
        continue;
      }
      const result = await notifier.notify(notification, signal);
      if (result.delivered) await providers.deliveries.recordDelivery(notification.deliveryId, notifier.channel, result.detail);
      else log.warn({ channel: notifier.channel, detail: result.detail }, 'notification not delivered');
      deliveries.push(result);
    }
    const lines = deliveries.map((delivery) => `- ${delivery.channel}: ${delivery.delivered ? 'delivered' : 'not delivered'} (${delivery.detail})`);
    await recordDocument('docs/NOTIFICATIONS.md', `# Notifications\n\n${notification.summary}\n\n${lines.join('\n')}\n`, `notify: ${notification.deliveryId}`);
    return { details: { summary: notification.summary, deliveries, ...(intentCoverage && { intent_coverage: intentCoverage }) } };
  },
});
