/**
 * Small HTML pages for people (the approval link's confirmation and result pages).
 * Every interpolated value is escaped by the `html` tag unless it is itself `html`;
 * the headers forbid scripts, framing, caching and leaking the URL (it may carry a token).
 */
import type { FastifyReply } from 'fastify';

export class SafeHtml {
  constructor(readonly text: string) {}
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof SafeHtml) return value.text;
  return value.map(render).join('');
}

/** A template whose values are escaped (nested `html` fragments and arrays of them pass as they are). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(text);
}

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  // No script, no remote anything; the one form posts back here; no <base> may redirect it, no page may frame this one.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
};

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}
pre{white-space:pre-wrap;background:#f4f4f4;padding:.8rem;border-radius:4px}textarea{width:100%;min-height:5rem}
button{font-size:1rem;padding:.5rem 1.2rem;margin-top:.8rem}.approve{background:#1a7f37;color:#fff}.reject{background:#b42318;color:#fff}`;

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title><style>${new SafeHtml(STYLE)}</style></head>
<body><h1>${title}</h1>
${body}
</body></html>
`.text;
}

export function sendPage(reply: FastifyReply, status: number, title: string, body: SafeHtml): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(page(title, body));
}
