/** What a log line shows of a URL that carries a credential: approval-link paths and `token` query values masked, however spelt. */
import { describe, expect, it } from 'vitest';
import { maskCredentialUrl } from '../../src/http/credential-urls.js';

describe('maskCredentialUrl', () => {
  it.each([
    ['/executor/builds/b-1/stream?token=s3cret', '/executor/builds/b-1/stream?token=[REDACTED]'],
    ['/executor/builds/b-1/stream?after=4&token=s3cret&x=1', '/executor/builds/b-1/stream?after=4&token=[REDACTED]&x=1'],
    ['/s?TOKEN=s3cret', '/s?TOKEN=[REDACTED]'],
    // The query parser decodes names: `%74oken` is `token` to it, so it is to the mask.
    ['/s?%74oken=s3cret', '/s?%74oken=[REDACTED]'],
    ['/s?a=1#&token=s3cret', '/s?a=1#&token=[REDACTED]'],
    ['/s?token=a&token=b', '/s?token=[REDACTED]&token=[REDACTED]'],
    ['/s?tokens=kept&my_token=kept', '/s?tokens=kept&my_token=kept'],
    ['/s?%zz=kept', '/s?%zz=kept'],
    ['/executor/approvals/v1.link-token?x=1', '/executor/approvals/[REDACTED]'],
    ['/executor/builds?limit=5', '/executor/builds?limit=5'],
  ])('shows %s as %s', (url, shown) => {
    expect(maskCredentialUrl(url)).toBe(shown);
  });
});
