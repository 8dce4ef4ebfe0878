/**
 * Checks real answers against what the executor's OpenAPI document (GET /docs/json) says
 * they are: the operation's schema for the answer's status, dereferenced, run by ajv.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'vitest';

/** The parts of an OpenAPI 3.1 document read here. */
interface Described {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: unknown }> }> } | undefined>>;
}

/** `check('GET /executor/droplets/{name}', response)`: fails the test unless the body fits; returns the body. */
export type AnswerCheck = (operation: string, response: Response) => Promise<unknown>;

export async function answerChecker(document: object): Promise<AnswerCheck> {
  const dereferenced = (await SwaggerParser.dereference(structuredClone(document) as never)) as unknown as Described;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return async (name, response) => {
    const [method, path] = name.split(' ') as [string, string];
    const operation = dereferenced.paths[path]?.[method.toLowerCase()];
    const schema = operation?.responses[String(response.status)]?.content?.['application/json']?.schema;
    expect(schema, `${name} describes ${response.status}`).toBeDefined();
    const body = (await response.json()) as unknown;
    const validate = ajv.compile(schema as object);
    expect(validate(body) ? null : { body, errors: validate.errors }, `${name} ${response.status}`).toBeNull();
    return body;
  };
}
