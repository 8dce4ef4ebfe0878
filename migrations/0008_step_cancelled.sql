-- A step a cancel cut short shows `cancelled` (it went back to `pending` before, which
-- read as never reached). The status check gains it, which SQLite can only do by
-- rebuilding the table.
CREATE TABLE build_steps_new (
  build_id      TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  step_number   INTEGER NOT NULL CHECK (step_number BETWEEN 1 AND 8),
  name          TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'skipped', 'cancelled')),
  started_at    TEXT,
  completed_at  TEXT,
  details       TEXT,                  -- JSON shown to clients
  output        TEXT,                  -- JSON the later steps read (spec, commit, deployment…)
  error         TEXT,                  -- JSON {code, message, details}
  PRIMARY KEY (build_id, step_number)
);
INSERT INTO build_steps_new (build_id, step_number, name, status, started_at, completed_at, details, output, error)
  SELECT build_id, step_number, name, status, started_at, completed_at, details, output, error FROM build_steps;
DROP TABLE build_steps;
ALTER TABLE build_steps_new RENAME TO build_steps;
