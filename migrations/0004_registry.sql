-- The fleet registry the executor serves under /registry (REGISTRY_URL unset): one live
-- entry per service name, kept alive by heartbeats. An entry whose expires_at has passed
-- is never answered and is deleted by the sweep. Times are ISO-8601 UTC (they sort as text).
CREATE TABLE registry_entries (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  name               TEXT NOT NULL UNIQUE,
  droplet_id         INTEGER,
  url                TEXT NOT NULL,
  health_endpoint    TEXT NOT NULL DEFAULT '/health',
  capabilities       TEXT NOT NULL DEFAULT '[]',   -- JSON array of strings
  version            TEXT NOT NULL,
  build_id           TEXT,
  host               TEXT,
  provenance         TEXT NOT NULL DEFAULT '{}',   -- JSON object (Provenance)
  health             TEXT NOT NULL DEFAULT 'unknown' CHECK (health IN ('healthy', 'degraded', 'unhealthy', 'unknown')),
  ttl_seconds        INTEGER NOT NULL,
  registered_at      TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  last_heartbeat_at  TEXT,
  expires_at         TEXT NOT NULL,
  -- hex sha256 of the entry token the registrant holds (the token itself is never stored):
  -- re-registering the live name, heartbeats and deregistration need the token.
  entry_token_sha256 TEXT
);
CREATE INDEX registry_entries_expiry ON registry_entries (expires_at);
