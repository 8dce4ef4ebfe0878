/** Which parts of an intent a SPEC serves, as the author read it. */
export interface IntentCoverage {
  /** The intent's words or phrases the droplet serves ("stock levels per warehouse"). */
  covered: string[];
  /** The ones it could not map to anything it builds. */
  not_covered: string[];
}

const isPhraseList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** A coverage read back from stored JSON (a step's details or error), or null when the value is not one. */
export function coverageFrom(value: unknown): IntentCoverage | null {
  if (typeof value !== 'object' || value === null) return null;
  const { covered, not_covered: notCovered } = value as Record<string, unknown>;
  return isPhraseList(covered) && isPhraseList(notCovered) ? { covered: [...covered], not_covered: [...notCovered] } : null;
}

/** "Not covered: "fans out messages to email and slack"." for summaries; empty when everything is. */
export function notCoveredSentence(coverage: IntentCoverage | null): string {
  if (!coverage || coverage.not_covered.length === 0) return '';
  return `Not covered: ${coverage.not_covered.map((phrase) => `"${phrase}"`).join(', ')}.`;
}
