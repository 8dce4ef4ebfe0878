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

/**
 * "Build Analytics Engine for tracking droplet metrics" → "analytics-engine".
 * Always returns a valid kebab-case name of 3..50 characters.
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
  let name = picked.join('-').replace(/^[0-9-]+/, '');
  if (name.length > 50) name = name.slice(0, 50).replace(/-[^-]*$/, '');
  if (name.length < 3) name = `droplet${name ? `-${name}` : ''}`;
  return name.replace(/-+$/, '');
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
