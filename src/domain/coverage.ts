/** Which parts of an intent a SPEC serves, as the author read it. */
export interface IntentCoverage {
  /** The intent's words or phrases the droplet serves ("stock levels per warehouse"). */
  covered: string[];
  /** The ones it could not map to anything it builds. */
  not_covered: string[];
}
