import { describe, expect, it } from 'vitest';
import { formatCost, formatDuration, linkable, renderMessage, renderText } from '../../src/notify/message.js';
import { completedNotification, failedNotification, waitingNotification } from '../support/notifications.js';

describe('renderMessage', () => {
  it('renders the facts of a completed build once for every channel', () => {
    const notification = completedNotification();
    const message = renderMessage(notification);
    expect(message.title).toBe('analytics-engine: build completed');
    expect(message.facts).toEqual([
      { label: 'Droplet', value: 'analytics-engine (#13)' },
      { label: 'Outcome', value: 'completed' },
      { label: 'URL', value: 'http://droplets.example:41001', url: 'http://droplets.example:41001' },
      { label: 'Duration', value: '3 min 20 s' },
      { label: 'Cost', value: '$0.0420' },
      { label: 'Repository', value: 'git@github.com:fleet/analytics-engine.git' },
      { label: 'Build', value: notification.buildId, url: notification.buildUrl },
    ]);
    expect(message.reason).toBeNull();
    expect(message.review).toBeNull();
    expect(message.links).toEqual([{ label: 'View build', url: notification.buildUrl }]);
    expect(message.linkNote).toBeNull();
  });

  it('says why a build failed and what to review at a gate, with the approve and reject links', () => {
    expect(renderMessage(failedNotification()).reason).toBe('VERIFICATION_FAILED in step verifier: 3 of 12 tests failed after 10 attempts');
    expect(renderMessage(failedNotification({ failure: { code: 'CANCELLED', message: 'cancelled', step: null } })).reason).toBe('CANCELLED: cancelled');
    const waiting = waitingNotification();
    const message = renderMessage(waiting);
    expect(message.title).toBe('analytics-engine: waiting for approval (after_spec)');
    expect(message.review).toBe('Gate after_spec: Review SPEC.md: 4 resources, 18 acceptance criteria.');
    expect(message.links.map((link) => [link.label, link.url, link.style])).toEqual([
      ['View build', waiting.buildUrl, undefined],
      ['Approve', waiting.approval!.links!.approveUrl, 'primary'],
      ['Reject', waiting.approval!.links!.rejectUrl, 'danger'],
    ]);
    expect(message.linkNote).toBe('The approve and reject links work once and expire at 2026-01-02T00:10:00.000Z.');
  });

  it('never turns a non-http(s) URL into a link, not even an approval link', () => {
    const waiting = waitingNotification();
    const message = renderMessage({
      ...waiting,
      deploymentUrl: 'javascript:alert(1)',
      approval: { ...waiting.approval!, links: { approveUrl: 'data:text/html,x', rejectUrl: waiting.approval!.links!.rejectUrl, expiresAt: 'x' } },
    });
    expect(message.facts.find((fact) => fact.label === 'URL')).toEqual({ label: 'URL', value: 'javascript:alert(1)' });
    expect(message.links.map((link) => link.label)).toEqual(['View build']);
    expect(message.linkNote).toContain('/approve');
  });

  it('renders the text form with one fact per line', () => {
    const text = renderText(renderMessage(failedNotification()));
    expect(text.split('\n').slice(0, 4)).toEqual(['analytics-engine: build failed', '', 'Build of analytics-engine failed in step verifier.', '']);
    expect(text).toContain('URL: not deployed\n');
    expect(text).toContain('\nReason: VERIFICATION_FAILED in step verifier: 3 of 12 tests failed after 10 attempts\n');
  });
});

describe('formatting', () => {
  it.each([
    [null, 'unknown'],
    [0, '0 s'],
    [45.4, '45 s'],
    [200, '3 min 20 s'],
    [3900, '1 h 05 min'],
  ])('formatDuration(%j) = %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each([
    [null, 'not recorded'],
    [0, '$0.0000'],
    [0.042, '$0.0420'],
    [12.345, '$12.35'],
  ])('formatCost(%j) = %s', (usd, text) => {
    expect(formatCost(usd)).toBe(text);
  });

  it('links http and https only', () => {
    expect(linkable('https://example.com/x')).toBe('https://example.com/x');
    expect(linkable('http://127.0.0.1:1')).toBe('http://127.0.0.1:1');
    expect(linkable('javascript:alert(1)')).toBeUndefined();
    expect(linkable('not a url')).toBeUndefined();
    expect(linkable(null)).toBeUndefined();
  });
});
