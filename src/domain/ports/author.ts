/** Who writes SPECs and code. Steps depend on this interface only. */
import type { DropletIdentity } from '../build.js';
import type { IntentCoverage } from '../coverage.js';
import type { FileChange } from '../files.js';
import type { RepairFile } from '../repair-context.js';
import type { ModelCallRecord } from '../usage.js';
import type { VerificationReport } from '../verification.js';

/** One standards file from `foundation-files/`, path relative to that folder. */
export interface FoundationFile {
  path: string;
  content: string;
}

export interface SpecRequest {
  intent: string;
  droplet: DropletIdentity;
  foundation: readonly FoundationFile[];
  /** Why the author's previous SPEC could not be accepted (its proof files were invalid), when it could not. */
  previousAnswerError?: string;
}

/** A SPEC and its machine-readable proof, committed side by side under `docs/`. */
export interface SpecDocument {
  /** The whole `docs/SPEC.md`. */
  markdown: string;
  /** The whole `docs/openapi.json`: OpenAPI 3.1 of the business routes and the five UDC endpoints. */
  openapi: string;
  /** The whole `docs/acceptance.json`: the scenarios that prove the droplet does what the intent asked. */
  acceptance: string;
  /** What of the intent the SPEC serves, when the author can tell. */
  coverage?: IntentCoverage;
}

/**
 * A read-only view of the droplet's repository for an author that explores it (a
 * model author's read_file and list_files tools). Tracked files only; every path is
 * untrusted and goes through the repository's safe-path check.
 */
export interface AuthorWorkspace {
  /** A tracked file's text, or null when there is no such tracked file. @throws UnsafePathError for a path leading out of the repository. */
  readFile(path: string): Promise<string | null>;
  /** Tracked files under `dir` (`''` or `.` for all), repository-relative. @throws UnsafePathError likewise. */
  listFiles(dir: string): Promise<string[]>;
}

export interface CodeRequest {
  intent: string;
  droplet: DropletIdentity;
  spec: string;
  foundation: readonly FoundationFile[];
  /** The repository as it stands, for authors that read it; absent for callers that offer none. */
  workspace?: AuthorWorkspace;
}


export interface RepairRequest extends CodeRequest {
  /** 1-based number of the verification attempt that failed. */
  attempt: number;
  failure: VerificationReport;
  /** Why the author's previous answer to this same failure could not be applied, when it could not. */
  previousAnswerError?: string;
  /**
   * The files the failure involves, whole, each with why it is sent and the lines
   * involved (for a model author: only these are shown, long ones as excerpts).
   */
  files: readonly RepairFile[];
  /** Involved too, but over the budget of what is shown: named so the author can read them. */
  notShown?: readonly string[];
}




/**
 * The build's ledger of paid model calls, kept by the pipeline: usage per step,
 * the budget cap, and results saved so a retried build does not pay twice.
 */
export interface ModelCallJournal {
  /** The result an identical earlier request of this build produced, if it was saved. */
  savedResult(key: string): Promise<unknown>;
  saveResult(key: string, result: unknown): void;
  /** Rejects with the budget error when spending up to `worstCaseUsd` more could pass the build's cap. */
  reserve(worstCaseUsd: number, purpose: string): Promise<void>;
  /** Resolves once the call is journaled (so the next `reserve` counts it). */
  record(call: ModelCallRecord): Promise<void>;
}

export interface AuthorCallOptions {
  signal: AbortSignal;
  /** Absent for callers that keep no ledger (the offline author needs none). */
  calls?: ModelCallJournal;
}

/** What /executor/health says about the author. */
export interface AuthorStatus {
  provider: string;
  model: string | null;
  /** `unknown` before the first call; `ok` when the API answered the last call; `failing` when it did not. */
  api: 'unknown' | 'ok' | 'failing';
  last_call_at: string | null;
  last_error: string | null;
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
  status?(): AuthorStatus;
}
