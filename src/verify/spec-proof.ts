/**
 * The guard of a SPEC's proof files, when the SPEC is written: the scenarios parse,
 * the OpenAPI document is valid, and the two agree (every scenario request is a
 * documented operation, every business operation is reached by a scenario).
 */
import { parseAcceptanceFile } from '../domain/acceptance.js';
import { operationFor, operationsNoScenarioReaches, stepPathShape } from '../domain/api-description.js';
import type { SpecProofCheck, SpecProofFiles } from '../domain/ports/verifier.js';
import { parseApiDescription } from './openapi.js';

export async function checkSpecProof(files: SpecProofFiles): Promise<SpecProofCheck> {
  const acceptance = parseAcceptanceFile(files.acceptance);
  if (!acceptance.ok) return { ok: false, reason: acceptance.reason };
  const api = await parseApiDescription(files.openapi);
  if (!api.ok) return { ok: false, reason: api.reason };
  const { scenarios } = acceptance.file;
  const operations = api.api.operations.map(({ definition: _definition, ...operation }) => operation);
  for (const scenario of scenarios) {
    for (const [index, step] of scenario.steps.entries()) {
      if (!operationFor(operations, step.request.method, stepPathShape(step.request.path))) {
        return { ok: false, reason: `scenario "${scenario.name}" step ${index + 1} requests ${step.request.method} ${step.request.path}, which docs/openapi.json does not list` };
      }
    }
  }
  const unreached = operationsNoScenarioReaches(operations, scenarios);
  if (unreached.length > 0) return { ok: false, reason: `no acceptance scenario requests ${unreached.join(', ')} (docs/openapi.json lists them)` };
  return { ok: true, proof: { scenarios, operations } };
}
