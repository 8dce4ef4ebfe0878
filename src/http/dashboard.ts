/**
 * The dashboard: plain HTML, CSS and ES modules from the package's `dashboard/` folder,
 * served as they are (no build step). `/` is the page, `/dashboard/*` its assets. The
 * files hold no build data, so they are public; the page asks for the API token when an
 * API call answers 401. Hidden from the OpenAPI document: they are not the API.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** The folder holding package.json, found upward from this module: src/http under tsx, dist/http when built. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}.`);
    dir = parent;
  }
  return dir;
}

export const DASHBOARD_DIR = join(packageRoot(), 'dashboard');

/**
 * The page sends only to its own origin (the API and its WebSocket) and runs only its
 * own scripts: a value reflected from a build (an intent, a file) cannot run as code.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** An asset path: plain names only, no segment starting with a dot (so no `..`, no dotfiles). */
const ASSET_PATH = /^(?!.*(?:^|\/)\.)[A-Za-z0-9_./-]+$/;

export async function registerDashboard(app: FastifyInstance, root: string = DASHBOARD_DIR): Promise<void> {
  await app.register(async (scope) => {
    // serve: false — the routes are declared here, so they can carry the public auth policy.
    await scope.register(fastifyStatic, { root, serve: false });
    const routeOptions = { schema: { hide: true }, config: { auth: 'public' as const } };
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      // Small files that change with the package: revalidate (ETag) rather than run a stale page.
      reply.header('cache-control', 'no-cache');
    });
    scope.get('/', routeOptions, async (_request, reply) => reply.sendFile('index.html'));
    scope.get<{ Params: { '*': string } }>('/dashboard/*', routeOptions, async (request, reply) => {
      const asset = request.params['*'];
      // Refused before the file system is asked: the answer is the usual 404, not send's 403.
      if (!ASSET_PATH.test(asset)) return reply.callNotFound();
      return reply.sendFile(asset);
    });
  });
}
