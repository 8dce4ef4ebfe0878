/**
 * What a droplet is held to beyond the UDC: its SPEC's acceptance scenarios and OpenAPI
 * document, taken from the SPEC when the step hands them over (so code cannot rewrite
 * its own exam), else from the workspace's `docs/`, for SPECs written before they existed.
 */
import { join } from 'node:path';
import { parseAcceptanceFile, type AcceptanceScenario } from '../domain/acceptance.js';
import type { SpecProofFiles } from '../domain/ports/verifier.js';
import type { ContractCheck } from '../domain/verification.js';
import { readRegularFile } from '../support/files.js';
import { parseApiDescription, type ApiDescription } from './openapi.js';

export const ACCEPTANCE_FILE = 'docs/acceptance.json';
export const OPENAPI_FILE = 'docs/openapi.json';
/** Each file is a few KiB; droplet code could make one a link or a FIFO. */
const PROOF_LIMIT_BYTES = 1024 * 1024;

export interface DropletProof {
  scenarios: AcceptanceScenario[];
  api: ApiDescription | null;
  /** Failed checks for files that are there but unusable. */
  invalid: ContractCheck[];
}

type Text = { text: string | null } | { refused: string };

async function workspaceText(workdir: string, file: string): Promise<Text> {
  const read = await readRegularFile(join(workdir, file), { maxBytes: PROOF_LIMIT_BYTES, within: workdir });
  if (read.status === 'missing') return { text: null };
  if (read.status === 'refused') return { refused: `"${file}" ${read.why}` };
  return { text: read.content.toString('utf8') };
}

function invalid(name: string, expected: string, got: string): ContractCheck {
  return { name, passed: false, expected, got };
}
const ACCEPTANCE_FORMAT = `${ACCEPTANCE_FILE} in the format of foundation-files/ACCEPTANCE.md`;
const OPENAPI_FORMAT = `${OPENAPI_FILE}: an OpenAPI 3.1 document of the business routes and the five UDC endpoints`;

async function scenariosFrom(text: Text): Promise<{ scenarios: AcceptanceScenario[]; invalid?: ContractCheck }> {
  const name = 'acceptance scenarios are valid';
  if ('refused' in text) return { scenarios: [], invalid: invalid(name, ACCEPTANCE_FORMAT, text.refused) };
  if (text.text === null) return { scenarios: [] };
  const parsed = parseAcceptanceFile(text.text);
  return parsed.ok ? { scenarios: parsed.file.scenarios } : { scenarios: [], invalid: invalid(name, ACCEPTANCE_FORMAT, parsed.reason) };
}

async function apiFrom(text: Text): Promise<{ api: ApiDescription | null; invalid?: ContractCheck }> {
  const name = 'openapi document is valid';
  if ('refused' in text) return { api: null, invalid: invalid(name, OPENAPI_FORMAT, text.refused) };
  if (text.text === null) return { api: null };
  const parsed = await parseApiDescription(text.text);
  return parsed.ok ? { api: parsed.api } : { api: null, invalid: invalid(name, OPENAPI_FORMAT, parsed.reason) };
}

export async function loadProof(workdir: string, proof: SpecProofFiles | undefined): Promise<DropletProof> {
  const [acceptanceText, openapiText] = proof
    ? [{ text: proof.acceptance }, { text: proof.openapi }]
    : await Promise.all([workspaceText(workdir, ACCEPTANCE_FILE), workspaceText(workdir, OPENAPI_FILE)]);
  const [scenarios, api] = await Promise.all([scenariosFrom(acceptanceText), apiFrom(openapiText)]);
  return {
    scenarios: scenarios.scenarios,
    api: api.api,
    invalid: [scenarios.invalid, api.invalid].filter((check): check is ContractCheck => check !== undefined),
  };
}
