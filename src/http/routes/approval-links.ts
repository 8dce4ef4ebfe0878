/**
 * One-click approval pages. `GET /executor/approvals/:token` shows what the signed link
 * decides and a form; only the form's POST decides, so a mail scanner or a chat
 * preview that fetches the link changes nothing. Both routes skip the bearer check
 * (`auth: 'signed-link'`): the link is the credential, checked by the redeemer.
 */
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApprovalLinkRefusedError } from '../../domain/approval-link.js';
import { asError, statusFor, toErrorBody } from '../../domain/errors.js';
import type { BuildView } from '../../domain/status.js';
import type { ApprovalLinkPreview, ApprovalLinkRedeemer } from '../../pipeline/service.js';
import { toAppError } from '../errors.js';
import { type SafeHtml, html, sendPage } from '../html-page.js';
import { htmlErrorResponses, htmlResponse } from '../response-schemas.js';
import { parseOrThrow } from '../schemas.js';
import { buildLinks } from './builds.js';

const PATH = '/executor/approvals/:token';
const FEEDBACK_MAX = 5_000;

/** The token's grammar is the redeemer's; this only bounds what reaches it. */
const tokenParams = z.object({ token: z.string().min(1).max(1_000) });
/** The form (or a JSON body): optional feedback; an empty textarea is no feedback. */
const decisionBody = z
  .object({ feedback: z.string().max(FEEDBACK_MAX).optional() })
  .strict()
  .transform(({ feedback }) => (feedback === undefined || feedback.trim() === '' ? undefined : feedback));

/** Refusals of a link (invalid 400, used or stale 409, expired 410) answer as pages too. */
const pageSchema = (page: string) => ({
  params: tokenParams,
  produces: ['text/html'],
  response: { 200: htmlResponse(page), ...htmlErrorResponses(404, 409, 410) },
});

const GATE_LABELS = { after_spec: 'after the SPEC (before code is written)', before_deploy: 'before deploying' } as const;

const tokenOf = (request: FastifyRequest): string => {
  const parsed = tokenParams.safeParse(request.params);
  if (!parsed.success) throw new ApprovalLinkRefusedError('invalid', 'This approval link is not valid.');
  return parsed.data.token;
};

function facts(preview: ApprovalLinkPreview): SafeHtml {
  return html`<dl>
<dt>Build</dt><dd><code>${preview.buildId}</code></dd>
<dt>Droplet</dt><dd>${preview.dropletName} (#${preview.dropletId})</dd>
<dt>Intent</dt><dd>${preview.architectIntent}</dd>
<dt>Gate</dt><dd>${GATE_LABELS[preview.gate]}</dd>
<dt>Waiting since</dt><dd>${preview.requestedAt}</dd>
<dt>Link valid until</dt><dd>${preview.expiresAt}</dd>
</dl>`;
}

function confirmationPage(preview: ApprovalLinkPreview): SafeHtml {
  const approving = preview.decision === 'approve';
  // No action attribute: the form posts back to this very URL (token included).
  return html`${facts(preview)}
<h2>What to review</h2>
<pre>${preview.summary}</pre>
<form method="post">
<p>Your decision: <strong>${approving ? 'approve' : 'reject'}</strong> this gate${approving ? '' : ' (the build is cancelled)'}.</p>
<label for="feedback">Feedback (optional)</label>
<textarea id="feedback" name="feedback" maxlength="${FEEDBACK_MAX}"></textarea>
<button type="submit" class="${approving ? 'approve' : 'reject'}">${approving ? 'Approve' : 'Reject'}</button>
</form>`;
}

function resultPage(preview: ApprovalLinkPreview, build: BuildView, publicUrl: string): SafeHtml {
  const approved = preview.decision === 'approve';
  return html`<p>${approved ? 'Approved: the build goes on.' : 'Rejected: the build is cancelled.'}</p>
${facts(preview)}
<p>Build status now: <strong>${build.status}</strong>. Its status: <code>${buildLinks(publicUrl, build.build_id).status_url}</code></p>`;
}

function errorPage(reply: FastifyReply, request: FastifyRequest, thrown: unknown): FastifyReply {
  const error = toAppError(thrown, request, request.routeOptions.bodyLimit);
  const status = statusFor(error);
  if (status >= 500) request.log.error({ err: asError(thrown) }, 'approval page failed');
  const { code, message } = toErrorBody(error).error;
  const title = error instanceof ApprovalLinkRefusedError ? 'This link cannot be used' : 'The request was refused';
  return sendPage(reply, status, title, html`<p>${message}</p><p><small>${code} (HTTP ${status})</small></p>`);
}

export function registerApprovalLinkRoutes(app: FastifyInstance, approvalLinks: ApprovalLinkRedeemer, publicUrl: string): void {
  void app.register(async (scope) => {
    // Real form posts only here: elsewhere a form-labelled body must be JSON (http/json-bodies.ts).
    scope.removeContentTypeParser('application/x-www-form-urlencoded');
    await scope.register(formbody, { bodyLimit: 16 * 1024 });
    scope.setErrorHandler((error: FastifyError, request, reply) => errorPage(reply, request, error));
    // The token is a credential in the path: `warn` keeps request lines (with their URL) out of the log.
    const options = { logLevel: 'warn', config: { auth: 'signed-link' } } as const;

    scope.get(PATH, { ...options, schema: pageSchema('The confirmation page, with a form that posts the decision.'), config: { ...options.config, description: 'Confirmation page of a signed one-click approval link (changes nothing).' } }, async (request, reply) => {
      const preview = await approvalLinks.inspect(tokenOf(request));
      const verb = preview.decision === 'approve' ? 'Approve' : 'Reject';
      return sendPage(reply, 200, `${verb} ${preview.dropletName} at the ${preview.gate} gate?`, confirmationPage(preview));
    });

    scope.post(PATH, { ...options, schema: { ...pageSchema('The decision is taken: a page says so.'), body: decisionBody, consumes: ['application/x-www-form-urlencoded', 'application/json'] }, config: { ...options.config, description: 'Decide the gate a signed one-click approval link names (once).' } }, async (request, reply) => {
      const token = tokenOf(request);
      const feedback = parseOrThrow(decisionBody, request.body ?? {}, 'approval form');
      const { preview, build } = await approvalLinks.redeem(token, feedback);
      const title = preview.decision === 'approve' ? `${preview.dropletName}: approved` : `${preview.dropletName}: rejected`;
      return sendPage(reply, 200, title, resultPage(preview, build, publicUrl));
    });
  });
}
