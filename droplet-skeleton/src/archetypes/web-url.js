// @ts-check
// The one check for addresses the droplet is handed (a service's url, a webhook's target):
// untrusted text, so only absolute http(s) addresses with a host and no credentials pass.

export const WEB_URL_MAX_LENGTH = 2000;

/**
 * Whether `text` is an absolute http or https address with a host and no user:password.
 * @param {string} text
 */
export function isWebUrl(text) {
  if (text.length > WEB_URL_MAX_LENGTH) return false;
  let parsed;
  try {
    parsed = new URL(text);
  } catch {
    return false;
  }
  // Credentials in a URL end up in logs and listings; they are never taken.
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.hostname !== '' && parsed.username === '' && parsed.password === '';
}
