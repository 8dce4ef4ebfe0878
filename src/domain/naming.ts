/** Deterministic names derived from an architect's intent. */

const LEADING_VERBS = new Set(['build', 'create', 'make', 'add', 'implement', 'write', 'develop', 'generate', 'design', 'set', 'up', 'a', 'an', 'the', 'new', 'me', 'please']);
/** Words that end the "what is it" part of an intent ("Analytics Engine *for* tracking…"). */
const CLAUSE_BREAKS = new Set(['for', 'to', 'that', 'which', 'with', 'who', 'where', 'so', 'using', 'by', 'from', 'on', 'in', 'of', 'and']);

export function words(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9\s-]/g, ' ')
    .split(/[\s-]+/)
    .filter(Boolean);
}

/** A droplet name: kebab-case, starting with a letter, 3..50 characters (what the submit route accepts). */
export const DROPLET_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * Words → a valid droplet name, or null when they make none: accents are folded,
 * anything but letters and digits goes, words past 50 characters are dropped whole.
 */
export function dropletNameFrom(parts: readonly string[]): string | null {
  const kept: string[] = [];
  for (const part of parts.flatMap(words)) {
    if (kept.length === 0 && !/^[a-z]/.test(part)) continue;
    if ([...kept, part].join('-').length > 50) break;
    kept.push(part);
  }
  const name = kept.join('-');
  return name.length >= 3 && DROPLET_NAME.test(name) ? name : null;
}

/**
 * `droplet-1c9a4e`: the name of an intent no rule can read (another language, a single
 * word), the same for the same intent, instead of a slug of words it did not understand.
 * The hash is FNV-1a over the intent's normalised text.
 */
export function fallbackDropletName(intent: string): string {
  let hash = 0x811c9dc5;
  for (const char of intent.replace(/\s+/g, ' ').trim().toLowerCase()) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `droplet-${hash.toString(16).padStart(8, '0').slice(0, 6)}`;
}

/**
 * "Build Analytics Engine for tracking droplet metrics" → "analytics-engine", by word
 * rules alone: the default when no intent reader is wired in (the composition root
 * wires the offline author's). Always returns a valid name of 3..50 characters.
 */
export function deriveDropletName(intent: string): string {
  const all = words(intent);
  let start = 0;
  while (start < all.length && LEADING_VERBS.has(all[start]!)) start += 1;
  const picked: string[] = [];
  for (const word of all.slice(start)) {
    if (CLAUSE_BREAKS.has(word) && picked.length > 0) break;
    if (CLAUSE_BREAKS.has(word)) continue;
    picked.push(word);
    if (picked.length === 4) break;
  }
  return dropletNameFrom(picked) ?? fallbackDropletName(intent);
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}

/** `build-13-analytics-engine-20261124-140532` (UTC). Uniqueness is the store's job. */
export function buildIdFor(dropletId: number, name: string, at: Date): string {
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`;
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return `build-${dropletId}-${name}-${date}-${time}`;
}
