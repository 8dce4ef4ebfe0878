/**
 * The forms a configured secret travels in besides its own value, so the redactor knows
 * them all: a credentialed URL's password (as written and decoded), `user:password` as
 * an `Authorization: Basic` header carries it, a webhook URL as URL objects print it.
 */

/** A credentialed URL whose user or password is not valid percent-encoding. */
export class CredentialEncodingError extends Error {
  constructor() {
    super('its credentials are not valid percent-encoding');
  }
}

/** What `Authorization: Basic` carries for these credentials. */
export const basicCredentials = (user: string, password: string) => Buffer.from(`${user}:${password}`, 'utf8').toString('base64');

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new CredentialEncodingError();
  }
}

/** A URL with credentials, its password (or a lone user part, which is then the token), and their Basic form; nothing for a URL without. */
export function urlCredentialForms(url: string | undefined): string[] {
  if (!url) return [];
  const { username, password } = new URL(url);
  if (!username && !password) return [];
  const user = decoded(username);
  const pass = decoded(password);
  return [url, ...(pass ? [password, pass] : [username, user]), basicCredentials(user, pass)];
}

/** A webhook URL is a secret whole (its path often holds a token), as written and as URL objects print it. */
export function webhookUrlForms(url: string | undefined): string[] {
  return url ? [url, new URL(url).href] : [];
}
