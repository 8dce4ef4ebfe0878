-- Fleet deploys: a release lives on a host, keeps the droplet's public port, is kept
-- running by a supervisor, and can be removed (undeploy). The status check gains
-- 'removed', which SQLite can only do by rebuilding the table.
CREATE TABLE deployments_new (
  release_id   TEXT PRIMARY KEY,       -- the build id
  droplet_id   INTEGER NOT NULL,
  target       TEXT NOT NULL,
  host         TEXT NOT NULL DEFAULT 'local',
  url          TEXT NOT NULL,
  pid          INTEGER,                -- the supervisor's pid (plain process supervision)
  port         INTEGER,                -- the droplet's public port, kept across releases
  supervisor   TEXT NOT NULL DEFAULT 'process',
  commit_sha   TEXT NOT NULL,
  directory    TEXT,
  status       TEXT NOT NULL CHECK (status IN ('active', 'replaced', 'failed', 'stopped', 'removed')),
  deployed_at  TEXT NOT NULL,
  started_at   TEXT
);
INSERT INTO deployments_new (release_id, droplet_id, target, url, pid, port, commit_sha, directory, status, deployed_at)
  SELECT release_id, droplet_id, target, url, pid, port, commit_sha, directory, status, deployed_at FROM deployments;
DROP TABLE deployments;
ALTER TABLE deployments_new RENAME TO deployments;
CREATE INDEX deployments_droplet ON deployments (droplet_id, status);
CREATE INDEX deployments_host ON deployments (target, host, status);

-- What happened to a droplet outside its builds: rollback, stop, start, restart,
-- undeploy, reconciliation at start. Append-only.
CREATE TABLE droplet_events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  droplet_id  INTEGER NOT NULL,
  type        TEXT NOT NULL,
  data        TEXT,
  at          TEXT NOT NULL
);
CREATE INDEX droplet_events_droplet ON droplet_events (droplet_id, seq);

-- The deploy host a build asked for (a DEPLOY_HOSTS entry).
ALTER TABLE builds ADD COLUMN deploy_host TEXT;

-- An undeployed droplet leaves the registry (its id and name stay reserved for its repository).
ALTER TABLE droplets ADD COLUMN deregistered_at TEXT;

-- The host a registered droplet is deployed on.
ALTER TABLE droplets ADD COLUMN host TEXT;
