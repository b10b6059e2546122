-- Due runs: the work queue that `serve` workers share (see migrations/postgres/0002_due_runs.sql).
-- On SQLite one writer at a time makes claims exclusive; the schema is the same.
CREATE TABLE due_runs (
    id               INTEGER PRIMARY KEY,
    connector_id     INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    due_at           TEXT NOT NULL,
    mode             TEXT,
    state            TEXT NOT NULL DEFAULT 'pending',  -- pending | claimed | done
    worker           TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    claimed_at       TEXT,
    lease_expires_at TEXT,
    finished_at      TEXT,
    run_id           INTEGER,
    outcome          TEXT,
    created_at       TEXT NOT NULL,
    UNIQUE (connector_id, due_at)
);
CREATE UNIQUE INDEX due_runs_one_open ON due_runs(connector_id) WHERE state <> 'done';
CREATE INDEX due_runs_ready ON due_runs(due_at, id) WHERE state <> 'done';
