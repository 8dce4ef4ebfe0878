-- Announcements waiting to be delivered, and every attempt at them. One row per
-- (delivery id, channel): enqueuing twice is a no-op, so a resumed step 8 or a replayed
-- event sends nothing twice; rows still pending are retried after a restart.
CREATE TABLE notification_outbox (
  delivery_id       TEXT NOT NULL,
  channel           TEXT NOT NULL,
  build_id          TEXT NOT NULL,
  event             TEXT NOT NULL CHECK (event IN ('completed', 'failed', 'waiting_approval')),
  payload           TEXT NOT NULL,     -- the BuildNotification as JSON (no secret: links are issued per attempt)
  status            TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  first_attempt_at  TEXT,              -- the retry window counts from here
  next_attempt_at   TEXT,              -- pending rows only
  last_detail       TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL,
  PRIMARY KEY (delivery_id, channel)
);
CREATE INDEX notification_outbox_pending ON notification_outbox (status, next_attempt_at);
CREATE INDEX notification_outbox_by_build ON notification_outbox (build_id);

CREATE TABLE notification_attempts (
  delivery_id  TEXT NOT NULL,
  channel      TEXT NOT NULL,
  attempt      INTEGER NOT NULL,
  outcome      TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'rejected')),
  detail       TEXT NOT NULL,
  at           TEXT NOT NULL,
  PRIMARY KEY (delivery_id, channel, attempt),
  FOREIGN KEY (delivery_id, channel) REFERENCES notification_outbox (delivery_id, channel) ON DELETE CASCADE
);

-- What the old table knew: completions delivered under `<build id>:build.completed`.
-- They keep counting as delivered under the new id `<build id>:completed`.
INSERT OR IGNORE INTO notification_outbox
  (delivery_id, channel, build_id, event, payload, status, attempts, first_attempt_at, last_detail, created_at, updated_at)
  SELECT substr(delivery_id, 1, length(delivery_id) - 16) || ':completed', channel,
         substr(delivery_id, 1, length(delivery_id) - 16), 'completed', '{}', 'delivered', 1,
         delivered_at, coalesce(detail, 'delivered'), delivered_at, delivered_at
  FROM notifications WHERE delivery_id LIKE '%:build.completed';
INSERT OR IGNORE INTO notification_attempts (delivery_id, channel, attempt, outcome, detail, at)
  SELECT delivery_id, channel, 1, 'delivered', last_detail, first_attempt_at FROM notification_outbox;
DROP TABLE notifications;
