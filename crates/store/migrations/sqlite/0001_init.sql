-- appscan-bridge store, version 1. Times are RFC 3339 UTC text (lexically ordered).
CREATE TABLE connectors (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    url          TEXT,
    key_id       TEXT,
    secret       BLOB,               -- AEAD ciphertext, never plain text
    settings     TEXT NOT NULL DEFAULT '{}',
    state        TEXT NOT NULL DEFAULT 'Registered',
    state_reason TEXT,
    cursor       TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    mode         TEXT NOT NULL,
    state        TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    fetched      INTEGER NOT NULL DEFAULT 0,
    inserted     INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    warnings     INTEGER NOT NULL DEFAULT 0,
    retries      INTEGER NOT NULL DEFAULT 0,
    requests     INTEGER NOT NULL DEFAULT 0,
    closed       INTEGER NOT NULL DEFAULT 0,
    reason       TEXT,
    cursor_from  TEXT
);
CREATE INDEX runs_by_connector ON runs(connector_id, id);

CREATE TABLE run_issues (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    level    TEXT NOT NULL,
    location TEXT NOT NULL,
    message  TEXT NOT NULL
);
CREATE INDEX run_issues_by_run ON run_issues(run_id);

-- One row per connector while a run holds it; an expired row is taken over.
CREATE TABLE connector_locks (
    connector_id INTEGER PRIMARY KEY REFERENCES connectors(id) ON DELETE CASCADE,
    run_id       INTEGER NOT NULL,
    holder       TEXT NOT NULL,
    acquired_at  TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);

CREATE TABLE assets (
    id           INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    name         TEXT,
    url          TEXT,
    description  TEXT,
    business_unit TEXT,
    risk_rating  TEXT,
    last_updated TEXT,
    tags         TEXT NOT NULL DEFAULT '[]',
    raw          BLOB,
    content_hash TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    first_seen   TEXT NOT NULL,
    last_seen    TEXT NOT NULL,
    last_run_id  INTEGER,
    UNIQUE (connector_id, external_id)
);
CREATE INDEX assets_by_name ON assets(name);

CREATE TABLE findings (
    id                INTEGER PRIMARY KEY,
    connector_id      INTEGER NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
    external_id       TEXT NOT NULL,
    asset_external_id TEXT NOT NULL,
    name              TEXT NOT NULL,
    severity          INTEGER NOT NULL,       -- 1 Informational .. 5 Critical
    source_severity   TEXT NOT NULL,
    status            TEXT NOT NULL,
    source_status     TEXT,
    cve               TEXT,
    cvss              REAL,
    cwe               INTEGER,
    first_found       TEXT,
    last_found        TEXT,
    last_updated      TEXT,
    port              INTEGER,
    protocol          TEXT,
    issue_type        TEXT,
    location          TEXT,
    element           TEXT,
    detection         TEXT,
    description       TEXT,
    solution          TEXT,
    tags              TEXT NOT NULL DEFAULT '[]',
    fingerprint       TEXT NOT NULL,
    raw               BLOB,
    content_hash      TEXT NOT NULL,
    active            INTEGER NOT NULL DEFAULT 1,
    first_seen        TEXT NOT NULL,
    last_seen         TEXT NOT NULL,
    last_run_id       INTEGER,
    UNIQUE (connector_id, external_id)
);
CREATE INDEX findings_by_asset ON findings(connector_id, asset_external_id);
CREATE INDEX findings_by_severity ON findings(severity);
CREATE INDEX findings_by_status ON findings(status);
CREATE INDEX findings_by_fingerprint ON findings(fingerprint);
CREATE INDEX findings_by_cwe ON findings(cwe);
CREATE INDEX findings_by_last_found ON findings(last_found);

CREATE TABLE finding_history (
    id         INTEGER PRIMARY KEY,
    finding_id INTEGER NOT NULL REFERENCES findings(id) ON DELETE CASCADE,
    run_id     INTEGER,
    at         TEXT NOT NULL,
    old_status TEXT,
    new_status TEXT NOT NULL
);
CREATE INDEX finding_history_by_finding ON finding_history(finding_id, id);

CREATE TABLE maps (
    name       TEXT PRIMARY KEY,
    toml       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
