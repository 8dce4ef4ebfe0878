/**
 * Core tier: what of the intent a build serves travels from the SPEC to the status
 * (`intent_coverage`), the `build.completed` event and the completion notification;
 * and a droplet submitted without a name is named by the namer the service was given.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IntentDropletNamer } from '../../src/authors/offline/index.js';
import { hosts } from '../support/core-host.js';
import { minimalProof } from '../support/spec-proof.js';

const made = hosts();
afterEach(() => made.closeAll());

const HUB = { covered: ['messages'], not_covered: ['notification hub', 'fans out messages to email and slack'] };

describe('intent coverage after the SPEC', () => {
  it('is in the status, the build.completed event and the notification, which says what is not covered', async () => {
    const host = made.make();
    host.author.proof = () => ({ ...minimalProof(), coverage: HUB });
    const { build_id: id, intent_coverage: beforeSpec } = await host.submit();
    expect(beforeSpec).toBeNull();
    const view = await host.settle(id, 'completed');
    expect(view.intent_coverage).toEqual(HUB);
    const completed = host.events(id).find((event) => event.type === 'build.completed');
    expect(completed?.data).toMatchObject({ intent_coverage: HUB });
    const [notification] = host.notifier.sent;
    expect(notification!.intentCoverage).toEqual(HUB);
    expect(notification!.summary).toMatch(/\. Not covered: "notification hub", "fans out messages to email and slack"\.$/);
    expect(view.steps[7]!.details).toMatchObject({ intent_coverage: HUB, summary: notification!.summary });
  });

  it('adds nothing to the summary when everything is covered', async () => {
    const host = made.make();
    host.author.proof = () => ({ ...minimalProof(), coverage: { covered: ['warehouses', 'stock levels per warehouse'], not_covered: [] } });
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'completed');
    expect(view.intent_coverage).toEqual({ covered: ['warehouses', 'stock levels per warehouse'], not_covered: [] });
    expect(host.notifier.sent[0]!.summary).not.toContain('Not covered');
  });

  it('is null throughout when the author cannot tell', async () => {
    const host = made.make();
    host.author.proof = () => minimalProof();
    const { build_id: id } = await host.submit();
    const view = await host.settle(id, 'completed');
    expect(view.intent_coverage).toBeNull();
    expect(host.events(id).find((event) => event.type === 'build.completed')?.data).toMatchObject({ intent_coverage: null });
    expect(host.notifier.sent[0]!.intentCoverage).toBeNull();
  });

  it('is in the status of an auto build that failed because nothing was covered', async () => {
    const host = made.make();
    host.author.proof = () => ({ ...minimalProof(), coverage: { covered: [], not_covered: ['rate limiter service'] } });
    const { build_id: id } = await host.submit({ approvalMode: 'auto' });
    const view = await host.settle(id, 'failed');
    expect(view.intent_coverage).toEqual({ covered: [], not_covered: ['rate limiter service'] });
  });
});

describe('naming droplets submitted without a name', () => {
  it('uses the namer the build service was given, for every author', async () => {
    const host = made.make({ namer: new IntentDropletNamer() });
    const view = await host.submit({ architectIntent: 'make me a thing for tracking my plants' });
    expect(view.droplet_name).toBe('plant-tracker');
    const french = await host.submit({ architectIntent: 'Créer un service de gestion des factures' });
    expect(french.droplet_name).toMatch(/^droplet-[0-9a-f]{6}$/);
  });

  it('falls back to word rules without one, still never a garbled slug', async () => {
    const host = made.make();
    expect((await host.submit({ architectIntent: 'Build Parking Finder for open spaces nearby' })).droplet_name).toBe('parking-finder');
    expect((await host.submit({ architectIntent: '¿¡ ... !?' })).droplet_name).toMatch(/^droplet-[0-9a-f]{6}$/);
  });
});
