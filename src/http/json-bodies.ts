/**
 * The API speaks JSON, but curl's `-d` labels a JSON body
 * `application/x-www-form-urlencoded` and some clients send none at all; the seed's own
 * examples do both. A body under either that parses as JSON is taken as JSON; anything
 * else (a real form, text, XML) is still refused with 415.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UnsupportedMediaTypeError } from './errors.js';

const FORM = 'application/x-www-form-urlencoded';

function jsonOr415(request: FastifyRequest, body: string): unknown {
  const text = body.trim();
  // Only an object or an array: a form such as `a=1` or a bare number is not a JSON request.
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // Falls through to the refusal: it was neither JSON nor something we read.
    }
  }
  throw new UnsupportedMediaTypeError(request.headers['content-type']);
}

export function acceptUnlabelledJson(app: FastifyInstance): void {
  app.addContentTypeParser(FORM, { parseAs: 'string' }, async (request: FastifyRequest, body: string) => jsonOr415(request, body));
  // The catch-all sees every type without a parser: only a request with no content-type at all is read.
  app.addContentTypeParser('*', { parseAs: 'string' }, async (request: FastifyRequest, body: string) => {
    if (request.headers['content-type'] !== undefined) throw new UnsupportedMediaTypeError(request.headers['content-type']);
    return jsonOr415(request, body);
  });
}
