-- API tokens of `serve`: only the SHA-256 of each token is kept.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
-- The open-findings chart sums status changes per run.
CREATE INDEX finding_history_by_run ON finding_history(run_id);
