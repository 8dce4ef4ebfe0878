/**
 * Creates a droplet's repository on GitHub when it is missing (GITHUB_TOKEN +
 * GITHUB_OWNER), through the REST API (@octokit/rest; GITHUB_API_URL for Enterprise).
 * GitHub's answers are untrusted: each one passes a zod guard before it is used.
 */
import { Octokit } from '@octokit/rest';
import { z } from 'zod';
import { StepError } from '../domain/errors.js';
import { GITHUB_API_DEFAULT, isBranchName, printable } from './remote.js';

export interface GitHubSettings {
  token: string;
  /** The user or organisation the repositories belong to. */
  owner: string;
  /** GitHub Enterprise: `https://ghe.example.com/api/v3`. Default: api.github.com. */
  apiUrl?: string;
  /** GITHUB_PRIVATE. */
  private: boolean;
  /** Per request; a slow API fails the step (retryable) instead of holding it. */
  timeoutMs?: number;
}

export interface EnsuredRepository {
  created: boolean;
  /** GitHub's default branch for it, when GitHub says (an empty repository may not). */
  defaultBranch: string | null;
}

/**
 * The parts of GitHub's answers used here; the rest is ignored. The default branch is
 * pushed to by name, so one that is not a plain branch name counts as none given.
 */
const RepositoryAnswer = z.object({
  name: z.string(),
  default_branch: z
    .string()
    .nullish()
    .transform((branch) => (branch && isBranchName(branch) ? branch : null)),
});
const UserAnswer = z.object({ login: z.string().min(1) });
/** What an Octokit RequestError carries (matched by shape: the class is a transitive package). */
const FailedRequest = z.object({ status: z.number().int(), message: z.string() });

const QUIET = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function statusOf(error: unknown): number | null {
  const parsed = FailedRequest.safeParse(error);
  return parsed.success ? parsed.data.status : null;
}

export class GitHubRepositories {
  private readonly octokit: Octokit;
  /** Repositories seen to exist since start-up: "before the first push" is once per droplet, not per push. */
  private readonly known = new Map<string, string | null>();
  readonly apiUrl: string;

  constructor(private readonly settings: GitHubSettings) {
    this.apiUrl = (settings.apiUrl ?? GITHUB_API_DEFAULT).replace(/\/+$/, '');
    this.octokit = new Octokit({ auth: settings.token, baseUrl: this.apiUrl, userAgent: 'autonomous-executor', log: QUIET });
  }

  get owner(): string {
    return this.settings.owner;
  }

  /** GET /repos/{owner}/{name}; on 404, creates it in the organisation, or for the token's user when that is the owner. */
  async ensure(name: string): Promise<EnsuredRepository> {
    if (this.known.has(name)) return { created: false, defaultBranch: this.known.get(name) ?? null };
    const existing = await this.find(name);
    if (existing) return this.remember(name, existing, false);
    try {
      return this.remember(name, await this.create(name), true);
    } catch (error) {
      // 422: created meanwhile (another executor, or a retried request that did land).
      if (!(error instanceof StepError && error.details?.status === 422)) throw error;
      const raced = await this.find(name);
      if (!raced) throw error;
      return this.remember(name, raced, false);
    }
  }

  private remember(name: string, answer: z.infer<typeof RepositoryAnswer>, created: boolean): EnsuredRepository {
    const defaultBranch = answer.default_branch ?? null;
    this.known.set(name, defaultBranch);
    return { created, defaultBranch };
  }

  private async find(name: string): Promise<z.infer<typeof RepositoryAnswer> | null> {
    const { owner } = this.settings;
    try {
      const answer = await this.octokit.rest.repos.get({ owner, repo: name, request: this.requestOptions() });
      return this.guard(RepositoryAnswer, answer.data, `GET /repos/${owner}/${name}`);
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw this.failure(error, `GET /repos/${owner}/${name}`);
    }
  }

  private async create(name: string): Promise<z.infer<typeof RepositoryAnswer>> {
    const { owner } = this.settings;
    const body = { name, private: this.settings.private, auto_init: false };
    const forUser = (await this.login()).toLowerCase() === owner.toLowerCase();
    const route = forUser ? 'POST /user/repos' : `POST /orgs/${owner}/repos`;
    try {
      const answer = forUser
        ? await this.octokit.rest.repos.createForAuthenticatedUser({ ...body, request: this.requestOptions() })
        : await this.octokit.rest.repos.createInOrg({ org: owner, ...body, request: this.requestOptions() });
      return this.guard(RepositoryAnswer, answer.data, route);
    } catch (error) {
      throw this.failure(error, route);
    }
  }

  private async login(): Promise<string> {
    try {
      const answer = await this.octokit.rest.users.getAuthenticated({ request: this.requestOptions() });
      return this.guard(UserAnswer, answer.data, 'GET /user').login;
    } catch (error) {
      throw this.failure(error, 'GET /user');
    }
  }

  private requestOptions(): { signal: AbortSignal } {
    return { signal: AbortSignal.timeout(this.settings.timeoutMs ?? 15_000) };
  }

  private guard<T>(schema: z.ZodType<T>, data: unknown, route: string): T {
    const parsed = schema.safeParse(data);
    if (parsed.success) return parsed.data;
    throw new StepError('PUBLISH_FAILED', `GitHub's answer to ${route} at ${this.apiUrl} was not what its API returns.`, { route, api: this.apiUrl });
  }

  private failure(error: unknown, route: string): StepError {
    if (error instanceof StepError) return error;
    const failed = FailedRequest.safeParse(error);
    // GitHub's own message ("Bad credentials", "Not Found") says what to fix; the doc link it appends does not.
    // Either is the remote's text: no escape sequence or control character reaches an event.
    const said = printable(failed.success ? failed.data.message.replace(/\s+-\s+https?:\/\/\S+$/, '') : String(error), 300);
    const message = failed.success
      ? `GitHub answered ${failed.data.status} to ${route} at ${this.apiUrl}: ${said}`
      : `GitHub could not be reached for ${route} at ${this.apiUrl}: ${said}`;
    return new StepError('PUBLISH_FAILED', message, { route, api: this.apiUrl, ...(failed.success ? { status: failed.data.status } : {}) });
  }
}
