-- Every paid model call of a build (usage and cost per step), results saved so a
-- retried build does not pay for the same request twice, and a per-build cost cap.
CREATE TABLE model_calls (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  build_id            TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  step_number         INTEGER NOT NULL CHECK (step_number BETWEEN 1 AND 8),
  purpose             TEXT NOT NULL,
  provider            TEXT NOT NULL,
  model               TEXT NOT NULL,
  input_tokens        INTEGER NOT NULL,
  output_tokens       INTEGER NOT NULL,
  cache_read_tokens   INTEGER NOT NULL,
  cache_write_tokens  INTEGER NOT NULL,
  cost_usd            REAL NOT NULL,
  stop_reason         TEXT,
  retries             INTEGER NOT NULL,
  duration_ms         INTEGER NOT NULL,
  created_at          TEXT NOT NULL
);
CREATE INDEX model_calls_build ON model_calls (build_id, step_number);

CREATE TABLE model_results (
  build_id      TEXT NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
  step_number   INTEGER NOT NULL CHECK (step_number BETWEEN 1 AND 8),
  request_key   TEXT NOT NULL,   -- sha256 of provider, model and the whole request
  result        TEXT NOT NULL,   -- JSON: the model's answer to that request
  created_at    TEXT NOT NULL,
  PRIMARY KEY (build_id, request_key)
);

ALTER TABLE builds ADD COLUMN max_cost_usd REAL;  -- NULL: only MAX_BUILD_COST_USD applies
