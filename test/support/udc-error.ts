/** Asserts an answer is the UDC error shape `{error: {code, message, details}}` with this status and code; returns the error. */
import { expect } from 'vitest';

export function expectUdcError(response: { statusCode: number; json(): unknown }, status: number, code: string) {
  expect(response.statusCode).toBe(status);
  const body = response.json() as { error: { code: string; message: string; details: Record<string, unknown> } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(typeof body.error.details).toBe('object');
  return body.error;
}
