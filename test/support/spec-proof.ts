/**
 * The smallest valid SPEC proof: an OpenAPI 3.1 document of the five UDC endpoints and
 * one scenario, for test authors whose SPEC is not what the test is about.
 */
import type { SpecProofFiles } from '../../src/domain/ports/verifier.js';

const ok = (description: string) => ({ '200': { description, content: { 'application/json': { schema: { type: 'object' } } } } });

export function minimalOpenApi(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Minimal droplet', version: '0.1.0' },
    paths: {
      '/health': { get: { operationId: 'getHealth', security: [], responses: ok('Up.') } },
      '/capabilities': { get: { operationId: 'getCapabilities', responses: ok('What it offers.') } },
      '/state': { get: { operationId: 'getState', responses: ok('Live state.') } },
      '/dependencies': { get: { operationId: 'getDependencies', responses: ok('What it uses.') } },
      '/message': {
        post: {
          operationId: 'receiveMessage',
          requestBody: { content: { 'application/json': { schema: { type: 'object' }, example: { from_service: 'a', message_type: 'query', payload: {} } } } },
          responses: ok('Received.'),
        },
      },
    },
  };
}

export function minimalAcceptance(): Record<string, unknown> {
  return {
    scenarios: [
      { name: 'the droplet says it is healthy', covers: 'a droplet', steps: [{ request: { method: 'GET', path: '/health' }, expect: { status: 200, json: { status: 'healthy' } }, auth: false }] },
    ],
  };
}

export function minimalProof(): SpecProofFiles {
  return { openapi: `${JSON.stringify(minimalOpenApi(), null, 2)}\n`, acceptance: `${JSON.stringify(minimalAcceptance(), null, 2)}\n` };
}
