/** Who writes SPECs and code. Steps depend on this interface only. */
import type { DropletIdentity } from '../domain/build.js';
import type { VerificationReport } from '../verify/types.js';

/** One standards file from `foundation-files/`, path relative to that folder. */
export interface FoundationFile {
  path: string;
  content: string;
}

export interface SpecRequest {
  intent: string;
  droplet: DropletIdentity;
  foundation: readonly FoundationFile[];
}

export interface SpecDocument {
  /** The whole `docs/SPEC.md`. */
  markdown: string;
}

export interface CodeRequest {
  intent: string;
  droplet: DropletIdentity;
  spec: string;
  foundation: readonly FoundationFile[];
}

export interface RepoFile {
  path: string;
  content: string;
}

export interface RepairRequest extends CodeRequest {
  /** 1-based number of the verification attempt that failed. */
  attempt: number;
  failure: VerificationReport;
  /** The files the failure involves (for a model author: only these are sent). */
  files: readonly RepoFile[];
}

/**
 * What an author asks to change. Paths are untrusted: the workspace passes every
 * one through the safe-path function before anything is written.
 */
export type FileChange =
  | { kind: 'write'; path: string; content: string }
  | { kind: 'delete'; path: string };

export interface AuthorCallOptions {
  signal: AbortSignal;
}

export interface Author {
  /** `offline`, `anthropic`, `openai`. */
  readonly id: string;
  /** One line for /executor/capabilities. */
  readonly description: string;
  writeSpec(request: SpecRequest, options: AuthorCallOptions): Promise<SpecDocument>;
  writeCode(request: CodeRequest, options: AuthorCallOptions): Promise<FileChange[]>;
  /** Returns only the files it changes. */
  repair(request: RepairRequest, options: AuthorCallOptions): Promise<FileChange[]>;
}
