/** The five UDC endpoints as OpenAPI 3.1 path items, the same for every offline droplet. */
import type { JsonSchema } from '../field-schema.js';

export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
        message: { type: 'string', minLength: 1 },
        details: { type: 'object' },
      },
    },
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown, example?: unknown) => ({ 'application/json': { schema, ...(example === undefined ? {} : { example }) } });
export const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });
export const UNAUTHORIZED = errorResponse('No valid bearer token.');

const isoTime: JsonSchema = { type: 'string', format: 'date-time' };
const services: JsonSchema = { type: 'array', items: { type: 'object', required: ['name', 'status'], properties: { name: { type: 'string' }, status: { type: 'string' } } } };

export const UDC_SCHEMAS: Record<string, JsonSchema> = {
  Error: ERROR_SCHEMA,
  Health: {
    type: 'object',
    required: ['status', 'timestamp', 'uptime_seconds', 'version'],
    properties: {
      status: { enum: ['healthy', 'degraded', 'unhealthy'] },
      timestamp: isoTime,
      uptime_seconds: { type: 'integer', minimum: 0 },
      version: { type: 'string' },
    },
  },
  Capabilities: {
    type: 'object',
    required: ['service_name', 'droplet_id', 'capabilities', 'supported_operations', 'integration_endpoints'],
    properties: {
      service_name: { type: 'string' },
      droplet_id: { type: 'integer' },
      capabilities: { type: 'array', items: { type: 'string' } },
      supported_operations: { type: 'array', items: { type: 'string' } },
      integration_endpoints: {
        type: 'array',
        items: { type: 'object', required: ['path', 'method', 'description'], properties: { path: { type: 'string' }, method: { type: 'string' }, description: { type: 'string' } } },
      },
    },
  },
  State: {
    type: 'object',
    required: ['status', 'mode', 'last_activity', 'metrics'],
    properties: {
      status: { enum: ['active', 'inactive', 'error'] },
      mode: { enum: ['production', 'development', 'maintenance'] },
      last_activity: { type: ['string', 'null'] },
      metrics: { type: 'object' },
    },
  },
  Dependencies: {
    type: 'object',
    required: ['required_services', 'optional_services', 'external_apis'],
    properties: { required_services: services, optional_services: services, external_apis: services },
  },
  Message: {
    type: 'object',
    additionalProperties: false,
    required: ['from_service', 'message_type', 'payload'],
    properties: {
      from_service: { type: 'string', minLength: 1, maxLength: 200 },
      message_type: { enum: ['task_assignment', 'status_update', 'query', 'command', 'event', 'status'] },
      payload: { type: 'object' },
      reply_to: { type: 'string', maxLength: 2000 },
      trace_id: { type: 'string', maxLength: 200 },
    },
  },
  MessageReceipt: {
    type: 'object',
    required: ['received', 'message_id', 'status'],
    properties: { received: { const: true }, message_id: { type: 'string' }, status: { enum: ['processing', 'completed', 'failed'] } },
  },
};

const read = (operationId: string, summary: string, schema: string) => ({
  get: { operationId, summary, tags: ['udc'], responses: { '200': { description: summary, content: json(ref(schema)) }, '401': UNAUTHORIZED } },
});

export const UDC_PATHS = {
  '/health': {
    get: {
      operationId: 'getHealth',
      summary: 'Liveness: status, timestamp, uptime and version.',
      tags: ['udc'],
      security: [],
      responses: { '200': { description: 'The droplet is up.', content: json(ref('Health')) } },
    },
  },
  '/capabilities': read('getCapabilities', 'What the droplet offers, including every business route.', 'Capabilities'),
  '/state': read('getState', 'Live status, mode, last activity and request metrics.', 'State'),
  '/dependencies': read('getDependencies', 'The services and APIs the droplet uses, with reachability.', 'Dependencies'),
  '/message': {
    post: {
      operationId: 'receiveMessage',
      summary: 'Inter-droplet message intake.',
      tags: ['udc'],
      requestBody: {
        required: true,
        content: json(ref('Message'), { from_service: 'orchestrator', message_type: 'query', payload: { question: 'status' } }),
      },
      responses: { '200': { description: 'Received.', content: json(ref('MessageReceipt')) }, '400': errorResponse('Not a message.'), '401': UNAUTHORIZED },
    },
  },
};
