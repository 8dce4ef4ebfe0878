/**
 * Acceptance scenarios: what `docs/acceptance.json` holds beside a droplet's SPEC, the
 * intent turned into requests and the answers that prove it (format documented in
 * foundation-files/ACCEPTANCE.md). The file is written by an author, so it is parsed
 * here, strictly, before anything of it is used.
 */
import { z } from 'zod';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
/** A path on the droplet itself: no scheme, no host, no `//` that would name another one. */
const dropletPath = z
  .string()
  .min(1)
  .max(2_000)
  .regex(/^\/(?!\/)[^\s\\]*$/, 'must be a path on the droplet, starting with a single "/"');
const captureName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'must be a name of letters, digits and _');

const requestSchema = z
  .object({
    method: z.enum(METHODS),
    path: dropletPath,
    body: z.unknown().optional(),
  })
  .strict();

const expectSchema = z
  .object({
    status: z.number().int().min(100).max(599),
    json: z.unknown().optional(),
  })
  .strict();

const stepSchema = z
  .object({
    request: requestSchema,
    expect: expectSchema,
    /** name → top-level field of the response body, usable as `{{name}}` in later steps. */
    capture: z.record(captureName, z.string().min(1).max(200)).optional(),
    /** false: sent without the droplet's API token (to prove a route refuses strangers). */
    auth: z.boolean().optional(),
  })
  .strict();

const scenarioSchema = z
  .object({
    name: z.string().min(1).max(200),
    /** The words of the intent this scenario proves. */
    covers: z.string().min(1).max(500),
    steps: z.array(stepSchema).min(1).max(50),
  })
  .strict();

export const acceptanceFileSchema = z.object({ scenarios: z.array(scenarioSchema).min(1).max(100) }).strict();

export type AcceptanceFile = z.infer<typeof acceptanceFileSchema>;
export type AcceptanceScenario = z.infer<typeof scenarioSchema>;
export type AcceptanceStep = z.infer<typeof stepSchema>;

/** How one scenario went against the running droplet. */
export interface ScenarioResult {
  name: string;
  covers: string;
  passed: boolean;
  /** 1-based; the step that failed, null when all passed. */
  failedStep: number | null;
  /** What the failing step expected and what it got, one line each; empty when passed. */
  expected: string;
  got: string;
}

export type AcceptanceParse = { ok: true; file: AcceptanceFile } | { ok: false; reason: string };

/** Parses the text of `docs/acceptance.json`; the reason names the first problem and where it is. */
export function parseAcceptanceFile(text: string): AcceptanceParse {
  if (text.trim() === '') return { ok: false, reason: 'docs/acceptance.json is missing or empty' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `docs/acceptance.json is not JSON (${(error as Error).message})` };
  }
  const parsed = acceptanceFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? issue.path.join('.') : 'the file';
    return { ok: false, reason: `docs/acceptance.json: ${where}: ${issue.message}` };
  }
  return { ok: true, file: parsed.data };
}
