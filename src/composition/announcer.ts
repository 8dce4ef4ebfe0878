/** The announcer over the SQLite outbox, with the channels and retry figures the configuration asks for. */
import type { Logger } from 'pino';
import type { ApprovalLinkIssuer } from '../domain/ports/approval-links.js';
import type { ModelCallLedger } from '../domain/ports/build-store.js';
import type { EventBus } from '../domain/ports/event-bus.js';
import type { Notifier } from '../domain/ports/notifier.js';
import { Announcer } from '../pipeline/announcer.js';
import { SqliteBuildCatalog } from '../store/build-catalog.js';
import type { SqliteBuildStore } from '../store/build-store.js';
import type { Db } from '../store/db.js';
import { SqliteNotificationOutbox } from '../store/notification-outbox.js';
import type { Config } from './config.js';

/** Step 8 waits for at most three attempts per channel and 15 s; the rest is retried in the background. */
const FIRST_ROUND = { attempts: 3, maxMs: 15_000 };
const MAX_RETRY_DELAY_MS = 5 * 60_000;

export interface AnnouncerInputs {
  config: Config;
  db: Db;
  notifiers: readonly Notifier[];
  store: SqliteBuildStore;
  ledger: ModelCallLedger;
  bus: EventBus;
  links?: ApprovalLinkIssuer | null;
  redact: (text: string) => string;
  log: Logger;
}

/**
 * Listens to the bus from construction on (failures and approval requests of resumed builds
 * are announced too); the executor's `resume` calls `resume()` to retry what a previous
 * process left undelivered (and announce what it committed but never queued), and `close` stops it before the database closes.
 */
export function createAnnouncer({ config, db, notifiers, store, ledger, bus, links, redact, log }: AnnouncerInputs): Announcer {
  return new Announcer(
    { outbox: new SqliteNotificationOutbox(db, (buildId, event) => store.journalNotificationNow(buildId, event)), catalog: new SqliteBuildCatalog(db), notifiers, store, ledger, bus, links: links ?? null, redact, log: log.child({ component: 'announcer' }) },
    {
      publicUrl: config.publicUrl,
      ...(config.NOTIFY_CHANNELS && { defaultChannels: config.NOTIFY_CHANNELS }),
      policy: {
        windowMs: config.NOTIFY_RETRY_WINDOW_SECONDS * 1000,
        baseDelayMs: config.NOTIFY_RETRY_BASE_MS,
        maxDelayMs: Math.max(config.NOTIFY_RETRY_BASE_MS, MAX_RETRY_DELAY_MS),
        // The channels time out on their own (NOTIFY_TIMEOUT_SECONDS); this only stops one that would not.
        attemptTimeoutMs: (config.NOTIFY_TIMEOUT_SECONDS + 5) * 1000,
      },
      firstRound: FIRST_ROUND,
    },
  );
}
