-- Builds, their eight steps, the event journal and approval decisions.
CREATE TABLE builds (
  id                  TEXT PRIMARY KEY,
  droplet_id          INTEGER NOT NULL,
  droplet_name        TEXT NOT NULL,
  architect_intent    TEXT NOT NULL,
  approval_mode       TEXT NOT NULL CHECK (approval_mode IN ('auto', 'checkpoints', 'final')),
  auto_deploy         INTEGER NOT NULL DEFAULT 1,
  notify_channels     TEXT,            -- JSON array, NULL = every configured channel
  status              TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'waiting_approval', 'completed', 'failed', 'cancelled')),
  current_step        INTEGER NOT NULL DEFAULT 1,
  created_at          TEXT NOT NULL,
  started_at          TEXT,
  completed_at        TEXT,
  estimated_seconds   INTEGER NOT NULL,
  repository_path     TEXT,
  repository_url      TEXT,
  deployment_url      TEXT,
  pending_approval    TEXT,            -- JSON {gate, step_number, requested_at}
  error               TEXT             -- JSON {code, message, details}
);
CREATE INDEX builds_status ON builds (status);
CREATE INDEX builds_created ON builds (created_at DESC);
CREATE INDEX builds_droplet ON builds (droplet_id);

CREATE TABLE build_steps (
  build_id      TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  step_number   INTEGER NOT NULL CHECK (step_number BETWEEN 1 AND 8),
  name          TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'skipped')),
  started_at    TEXT,
  completed_at  TEXT,
  details       TEXT,                  -- JSON shown to clients
  output        TEXT,                  -- JSON the later steps read (spec, commit, deployment…)
  error         TEXT,                  -- JSON {code, message, details}
  PRIMARY KEY (build_id, step_number)
);

CREATE TABLE build_events (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  build_id  TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  type      TEXT NOT NULL,
  at        TEXT NOT NULL,
  data      TEXT NOT NULL
);
CREATE INDEX build_events_by_build ON build_events (build_id, seq);

CREATE TABLE approvals (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  build_id    TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  gate        TEXT NOT NULL,
  step_number INTEGER NOT NULL,
  approved    INTEGER NOT NULL,
  feedback    TEXT,
  decided_at  TEXT NOT NULL,
  UNIQUE (build_id, step_number)
);

-- The embedded registry: one row per droplet, provenance of its latest registration.
CREATE TABLE droplets (
  droplet_id     INTEGER PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  url            TEXT,
  version        TEXT NOT NULL,
  capabilities   TEXT NOT NULL,        -- JSON array
  build_id       TEXT NOT NULL,
  commit_sha     TEXT NOT NULL,
  registered_at  TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);

-- Local deployments: which process serves which droplet release.
CREATE TABLE deployments (
  release_id   TEXT PRIMARY KEY,       -- the build id
  droplet_id   INTEGER NOT NULL,
  target       TEXT NOT NULL,
  url          TEXT NOT NULL,
  pid          INTEGER,
  port         INTEGER,
  commit_sha   TEXT NOT NULL,
  directory    TEXT,
  status       TEXT NOT NULL CHECK (status IN ('active', 'replaced', 'failed', 'stopped')),
  deployed_at  TEXT NOT NULL
);
CREATE INDEX deployments_droplet ON deployments (droplet_id, status);

-- Notification deliveries, so a resumed build does not notify twice.
CREATE TABLE notifications (
  delivery_id  TEXT NOT NULL,
  channel      TEXT NOT NULL,
  delivered_at TEXT NOT NULL,
  detail       TEXT,
  PRIMARY KEY (delivery_id, channel)
);
