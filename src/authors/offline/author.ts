/**
 * The embedded default author: fixed templates, no network, no model. The same
 * request always gives byte-identical output, which makes builds reproducible and
 * lets the whole pipeline run (and be tested) without any model key.
 */
import { throwIfAborted } from '../../domain/errors.js';
import type { Author, AuthorCallOptions, CodeRequest, RepairRequest, SpecDocument, SpecRequest } from '../../domain/ports/author.js';
import type { FileChange, RepoFile } from '../../domain/files.js';
import { installedDropletDependencies, type DropletDependencies } from './fastify-version.js';
import { dropletFiles } from './files.js';
import { planDroplet } from './plan.js';
import { acceptanceJson } from './proof/acceptance.js';
import { openApiJson } from './proof/openapi.js';
import { renderSpec } from './spec.js';

function asWrites(files: readonly RepoFile[]): FileChange[] {
  return files.map((file) => ({ kind: 'write', path: file.path, content: file.content }));
}

export class OfflineAuthor implements Author {
  readonly id = 'offline';
  readonly description = 'Deterministic template author: a Fastify droplet with CRUD resources derived from the intent, no model.';

  /** `dependencies` default to the versions installed next to the executor. */
  constructor(private readonly dependencies: DropletDependencies = installedDropletDependencies()) {}

  async writeSpec(request: SpecRequest, options: AuthorCallOptions): Promise<SpecDocument> {
    throwIfAborted(options.signal);
    const plan = planDroplet(request.intent, request.droplet);
    return { markdown: renderSpec(plan, request.foundation), openapi: openApiJson(plan), acceptance: acceptanceJson(plan), coverage: plan.coverage };
  }

  async writeCode(request: CodeRequest, options: AuthorCallOptions): Promise<FileChange[]> {
    throwIfAborted(options.signal);
    return asWrites(this.generate(request));
  }

  /**
   * Templates cannot learn from a failure, so a repair regenerates: it returns the
   * generated files whose content differs from what the request shows (restoring
   * anything edited or broken), and when none differ, every generated file, so a
   * repair is never empty and also restores files the request did not include.
   * Files the templates do not produce (a lockfile, say) are left alone.
   */
  async repair(request: RepairRequest, options: AuthorCallOptions): Promise<FileChange[]> {
    throwIfAborted(options.signal);
    const generated = this.generate(request);
    const shown = new Map(request.files.map((file) => [file.path, file.content]));
    const differing = generated.filter((file) => shown.has(file.path) && shown.get(file.path) !== file.content);
    return asWrites(differing.length > 0 ? differing : generated);
  }

  private generate(request: CodeRequest): RepoFile[] {
    return dropletFiles(planDroplet(request.intent, request.droplet), this.dependencies);
  }
}
