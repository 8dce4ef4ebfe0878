/**
 * What the dashboard reads of a build's repository: its committed files, one file's
 * text, and the diff of every repair the verifier made. All need the API token (they
 * are build data); everything comes from git's objects, never the working tree.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { BuildFileService } from '../../pipeline/service.js';
import { errorResponses } from '../response-schemas.js';
import { buildFileParams, buildIdParams, parseOrThrow } from '../schemas.js';

const commitId = z.string().describe('The commit the files are read from: the newest the build made.');

const fileList = z
  .object({
    commit: commitId.nullable().describe('Null while the build has committed nothing (no repository yet).'),
    files: z.array(z.object({ path: z.string(), size: z.number().int().min(0).describe('Bytes.') })),
  })
  .meta({ id: 'BuildFileList' });

const fileContent = z
  .object({
    path: z.string(),
    size: z.number().int().min(0),
    commit: commitId,
    content: z.string().nullable().describe('UTF-8 text, at most 256 KiB; null for a binary file (one holding a NUL byte).'),
    binary: z.boolean(),
    truncated: z.boolean().describe('The file is longer than `content`.'),
  })
  .meta({ id: 'BuildFileContent' });

const repairList = z
  .object({
    repairs: z.array(
      z.object({
        attempt: z.number().int().min(1).describe('The verification attempt whose failure the repair answers.'),
        commit: z.string(),
        message: z.string(),
        files: z.array(z.string()),
        diff: z.string().describe('Unified diff against the parent commit, at most 200 KiB.'),
        truncated: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'RepairList' });

export function registerBuildFileRoutes(app: FastifyInstance, files: BuildFileService): void {
  const buildId = (params: unknown): string => parseOrThrow(buildIdParams, params, 'build id').id;

  app.get(
    '/executor/builds/:id/files',
    { schema: { params: buildIdParams, response: { 200: fileList, ...errorResponses(404) } }, config: { description: "The build's generated files (path and size) at the newest commit it made." } },
    async (request) => files.list(buildId(request.params)),
  );

  app.get(
    '/executor/builds/:id/files/*',
    { schema: { params: buildFileParams, response: { 200: fileContent, ...errorResponses(404) } }, config: { description: "One of the build's files as text (capped at 256 KiB); only paths the commit's tree lists." } },
    async (request) => {
      const { id, '*': file } = parseOrThrow(buildFileParams, request.params, 'file path');
      return files.read(id, file);
    },
  );

  app.get(
    '/executor/builds/:id/repairs',
    { schema: { params: buildIdParams, response: { 200: repairList, ...errorResponses(404) } }, config: { description: "Each repair of the verifier's test→repair loop: attempt, commit, files and unified diff." } },
    async (request) => ({ repairs: await files.repairs(buildId(request.params)) }),
  );
}
