import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createTransport } from 'nodemailer';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError } from '../../src/domain/errors.js';
import { ANNOUNCED_EVENTS } from '../../src/domain/notification.js';
import { attemptOfSmtpError, EmailNotifier, smtpTransportOptions } from '../../src/notify/email.js';
import { closedPort } from '../support/notify-receiver.js';
import { completedNotification, failedNotification, waitingNotification } from '../support/notifications.js';

interface Mail {
  from: string | false;
  to: string[];
  raw: string;
  user: string | undefined;
}

const live = () => new AbortController().signal;

/** A real SMTP server on loopback; `refuse` answers RCPT TO with the given code. */
async function startSmtp(options: { refuse?: number; requireAuth?: boolean } = {}) {
  const mails: Mail[] = [];
  /** Who tried to log in: credentials sent, whatever the answer. */
  const logins: string[] = [];
  const server = new SMTPServer({
    authOptional: !options.requireAuth,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push(auth.username ?? '');
      if (auth.username === 'executor' && auth.password === 'smtp-pass-word') return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid credentials'), { responseCode: 535 }));
    },
    onRcptTo(_address: SMTPServerAddress, _session, callback) {
      if (options.refuse) return callback(Object.assign(new Error(`refused with ${options.refuse}`), { responseCode: options.refuse }));
      return callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom && session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The decoded body of the part with this content type (multipart/alternative, as nodemailer writes it). */
function partOf(raw: string, type: string): string {
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(raw)?.[1];
  expect(boundary).toBeDefined();
  const part = raw.split(`--${boundary}`).find((candidate) => new RegExp(`^\\s*Content-Type: ${type}`, 'im').test(candidate));
  expect(part).toBeDefined();
  const [head, ...body] = part!.split(/\r?\n\r?\n/);
  const content = body.join('\n\n');
  const encoding = /Content-Transfer-Encoding: ([\w-]+)/i.exec(head!)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(content, 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(content);
  return content;
}

const header = (raw: string, name: string) => new RegExp(`^${name}: (.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw)?.[1]?.replace(/\r?\n[ \t]/g, ' ');

describe('EmailNotifier', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>> | undefined;
  afterEach(async () => {
    await smtp?.close();
    smtp = undefined;
  });

  const notifierFor = (url: string, to = ['architect@fleet.example', 'ops@fleet.example']) =>
    new EmailNotifier({ smtpUrl: url, from: 'executor@fleet.example', to, events: ANNOUNCED_EVENTS, timeoutMs: 5_000 });

  it('sends one mail, text and HTML, with the facts and a Message-ID from the delivery id', async () => {
    smtp = await startSmtp();
    const notification = completedNotification();
    const attempt = await notifierFor(`smtp://127.0.0.1:${smtp.port}`).deliver(notification, live());
    expect(attempt).toEqual({ outcome: 'delivered', detail: 'SMTP 250: accepted for 2 recipient(s)' });
    expect(smtp.mails).toHaveLength(1);
    const [mail] = smtp.mails as [Mail];
    expect(mail.from).toBe('executor@fleet.example');
    expect(mail.to).toEqual(['architect@fleet.example', 'ops@fleet.example']);
    expect(header(mail.raw, 'Subject')).toBe('analytics-engine: build completed');
    expect(header(mail.raw, 'X-Executor-Delivery')).toBe(notification.deliveryId);
    expect(header(mail.raw, 'X-Executor-Event')).toBe('completed');
    expect(header(mail.raw, 'Message-ID')).toMatch(/^<[0-9a-f]{32}@autonomous-executor>$/);

    const text = partOf(mail.raw, 'text/plain');
    for (const line of [
      'Droplet: analytics-engine (#13)',
      'Outcome: completed',
      'URL: http://droplets.example:41001',
      'Duration: 3 min 20 s',
      'Cost: $0.0420',
      'Repository: git@github.com:fleet/analytics-engine.git',
      `View build: ${notification.buildUrl}`,
      'Droplet analytics-engine is live — “ünïcode” included.',
    ]) {
      expect(text).toContain(line);
    }
    const html = partOf(mail.raw, 'text/html');
    expect(html).toContain('<h2>analytics-engine: build completed</h2>');
    expect(html).toContain('<th align="left" style="padding-right:12px">Duration</th><td>3 min 20 s</td>');
    expect(html).toContain('<td>$0.0420</td>');
    expect(html).toContain('<a href="http://droplets.example:41001">http://droplets.example:41001</a>');
    expect(html).toContain(`<a href="${notification.buildUrl}">${notification.buildId}</a>`);
    expect(html).toContain('“ünïcode”');
  });

  it('keeps the same Message-ID for a retry of the same delivery, another one for another', async () => {
    smtp = await startSmtp();
    const notifier = notifierFor(`smtp://127.0.0.1:${smtp.port}`);
    await notifier.deliver(completedNotification(), live());
    await notifier.deliver(completedNotification(), live());
    await notifier.deliver(failedNotification(), live());
    const ids = smtp.mails.map((mail) => header(mail.raw, 'Message-ID'));
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  it('carries the failure reason, and the approval links in both parts', async () => {
    smtp = await startSmtp();
    const notifier = notifierFor(`smtp://127.0.0.1:${smtp.port}`);
    await notifier.deliver(failedNotification(), live());
    const waiting = waitingNotification();
    await notifier.deliver(waiting, live());
    const [failedMail, waitingMail] = smtp.mails as [Mail, Mail];
    expect(partOf(failedMail.raw, 'text/plain')).toContain('Reason: VERIFICATION_FAILED in step verifier: 3 of 12 tests failed after 10 attempts');
    expect(partOf(failedMail.raw, 'text/html')).toContain('<strong>Reason:</strong> VERIFICATION_FAILED in step verifier');
    const text = partOf(waitingMail.raw, 'text/plain');
    expect(text).toContain('To review: Gate after_spec: Review SPEC.md: 4 resources, 18 acceptance criteria.');
    expect(text).toContain(`Approve: ${waiting.approval!.links!.approveUrl}`);
    expect(text).toContain(`Reject: ${waiting.approval!.links!.rejectUrl}`);
    const html = partOf(waitingMail.raw, 'text/html');
    expect(html).toMatch(new RegExp(`<a href="${waiting.approval!.links!.approveUrl}" style="[^"]+">Approve</a>`));
    expect(html).toMatch(new RegExp(`<a href="${waiting.approval!.links!.rejectUrl}" style="[^"]+">Reject</a>`));
    expect(header(waitingMail.raw, 'Subject')).toBe('analytics-engine: waiting for approval (after_spec)');
  });

  it('escapes the HTML part and links only http(s) URLs', async () => {
    smtp = await startSmtp();
    await notifierFor(`smtp://127.0.0.1:${smtp.port}`).deliver(
      failedNotification({ summary: 'Broke <script>alert("x")</script> & more', deploymentUrl: 'javascript:alert(1)' }),
      live(),
    );
    const html = partOf(smtp.mails[0]!.raw, 'text/html');
    expect(html).toContain('Broke &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; more');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('href="javascript:');
    expect(html).toContain('<td>javascript:alert(1)</td>');
  });

  it('logs in with the credentials of SMTP_URL', async () => {
    smtp = await startSmtp({ requireAuth: true });
    const attempt = await notifierFor(`smtp://executor:smtp-pass-word@127.0.0.1:${smtp.port}`).deliver(completedNotification(), live());
    expect(attempt.outcome).toBe('delivered');
    expect(smtp.mails[0]!.user).toBe('executor');
  });

  it('is rejected on a wrong password, without naming it', async () => {
    smtp = await startSmtp({ requireAuth: true });
    const attempt = await notifierFor(`smtp://executor:wrong-pass-word@127.0.0.1:${smtp.port}`).deliver(completedNotification(), live());
    expect(attempt).toEqual({ outcome: 'rejected', detail: 'SMTP 535 (EAUTH)' });
    expect(smtp.mails).toHaveLength(0);
  });

  it('retries a transient 4xx and gives up on a permanent 5xx', async () => {
    smtp = await startSmtp({ refuse: 451 });
    expect(await notifierFor(`smtp://127.0.0.1:${smtp.port}`, ['a@fleet.example']).deliver(completedNotification(), live())).toEqual({
      outcome: 'retry',
      detail: 'SMTP 451 (EENVELOPE)',
    });
    await smtp.close();
    smtp = await startSmtp({ refuse: 550 });
    expect(await notifierFor(`smtp://127.0.0.1:${smtp.port}`, ['a@fleet.example']).deliver(completedNotification(), live())).toEqual({
      outcome: 'rejected',
      detail: 'SMTP 550 (EENVELOPE)',
    });
    expect(smtp.mails).toHaveLength(0);
  });

  it('requires STARTTLS for smtp:// off loopback (a stripped offer must not send AUTH in clear)', () => {
    for (const url of ['smtp://executor:pw@mail.fleet.example:587', 'smtp://10.0.0.5:25', 'smtp://[2001:db8::25]:25', 'smtp://127.mail.example']) {
      expect(smtpTransportOptions(url, 1_000)).toMatchObject({ url, requireTLS: true });
    }
    for (const url of ['smtp://127.0.0.1:2525', 'smtp://user:pw@localhost:25', 'smtp://[::1]:25', 'smtps://user:pw@mail.fleet.example:465']) {
      expect(smtpTransportOptions(url, 1_000).requireTLS).toBeUndefined();
    }
    expect(smtpTransportOptions('smtp://mail.fleet.example', 1_000)).toMatchObject({ connectionTimeout: 1_000, disableFileAccess: true, disableUrlAccess: true });
  });

  it('with those options, a relay that offers no STARTTLS gets no credentials and no mail', async () => {
    smtp = await startSmtp({ requireAuth: true });
    const port = smtp.port;
    // The URL names a remote relay; the socket is handed over to the loopback server (as a man in the middle would answer).
    const transport = createTransport({
      ...smtpTransportOptions('smtp://executor:smtp-pass-word@mail.fleet.example:587', 5_000),
      getSocket: (_options: unknown, callback: (error: Error | null, socket?: { connection: Socket }) => void) => {
        const connection = connect(port, '127.0.0.1', () => callback(null, { connection }));
      },
    } as Parameters<typeof createTransport>[0]);
    const error = await transport.sendMail({ from: 'executor@fleet.example', to: 'a@fleet.example', text: 'x' }).then(
      () => null,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ code: 'ETLS' });
    expect(attemptOfSmtpError(error)).toEqual({ outcome: 'rejected', detail: 'SMTP refused: the server did not upgrade to TLS (STARTTLS is required off loopback)' });
    expect(smtp.logins).toEqual([]);
    expect(smtp.mails).toHaveLength(0);
    transport.close();
  });

  it('keeps a detail to one printable, bounded line whatever the error carries', () => {
    const attempt = attemptOfSmtpError({ responseCode: 421, code: 'EPROTOCOL\r\n\u001b[31mFAKE 250 delivered\u0007' + 'x'.repeat(1_000) });
    expect(attempt.outcome).toBe('retry');
    expect(attempt.detail).toMatch(/^SMTP 421 \(EPROTOCOL \[31mFAKE 250 delivered x+…$/);
    // eslint-disable-next-line no-control-regex -- control characters are what must be absent
    expect(attempt.detail).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(attempt.detail.length).toBeLessThanOrEqual(300);
  });

  it('retries when the server cannot be reached', async () => {
    const port = await closedPort();
    expect(await notifierFor(`smtp://127.0.0.1:${port}`).deliver(completedNotification(), live())).toEqual({
      outcome: 'retry',
      detail: 'SMTP connection error (ESOCKET: ECONNREFUSED)',
    });
  });

  /** A TCP listener that accepts and never greets, as a stuck relay does. */
  async function silentServer() {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      port,
      sockets,
      close: () => new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
    };
  }

  it('gives up a server that never greets, as worth a retry', async () => {
    const silent = await silentServer();
    try {
      const notifier = new EmailNotifier({ smtpUrl: `smtp://127.0.0.1:${silent.port}`, from: 'executor@fleet.example', to: ['a@fleet.example'], events: ['failed'], timeoutMs: 300 });
      expect(await notifier.deliver(completedNotification(), live())).toEqual({ outcome: 'retry', detail: 'SMTP timed out' });
      expect(notifier.events).toEqual(['failed']);
    } finally {
      await silent.close();
    }
  });

  it('throws CancelledError when the caller aborts', async () => {
    const silent = await silentServer();
    try {
      const notifier = new EmailNotifier({ smtpUrl: `smtp://127.0.0.1:${silent.port}`, from: 'executor@fleet.example', to: ['a@fleet.example'], events: ANNOUNCED_EVENTS, timeoutMs: 10_000 });
      const controller = new AbortController();
      const delivery = notifier.deliver(completedNotification(), controller.signal);
      await expect.poll(() => silent.sockets.length).toBe(1);
      controller.abort();
      await expect(delivery).rejects.toBeInstanceOf(CancelledError);
    } finally {
      await silent.close();
    }
  });
});
