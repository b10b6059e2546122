-- A finding's (connector, external id) key was a UNIQUE constraint of the table, whose
-- index SQLite never lets go of. It becomes a named unique index, so that the first load
-- into an empty store can build it once at its end (src/sqlite/indexes.rs) instead of
-- inserting a million random GUIDs into it one by one. The table is rebuilt the way
-- SQLite documents for such changes (the migration runs with foreign keys off, so
-- dropping the old table leaves finding_history alone).
CREATE TABLE findings_new (
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
    risk              INTEGER NOT NULL DEFAULT 0
);
INSERT INTO findings_new(id, connector_id, external_id, asset_external_id, name, severity,
    source_severity, status, source_status, cve, cvss, cwe, first_found, last_found,
    last_updated, port, protocol, issue_type, location, element, detection, description,
    solution, tags, fingerprint, raw, content_hash, active, first_seen, last_seen,
    last_run_id, risk)
SELECT id, connector_id, external_id, asset_external_id, name, severity,
    source_severity, status, source_status, cve, cvss, cwe, first_found, last_found,
    last_updated, port, protocol, issue_type, location, element, detection, description,
    solution, tags, fingerprint, raw, content_hash, active, first_seen, last_seen,
    last_run_id, risk
FROM findings;
DROP TABLE findings;
ALTER TABLE findings_new RENAME TO findings;
CREATE UNIQUE INDEX findings_by_external_id ON findings(connector_id, external_id);
CREATE INDEX findings_by_asset ON findings(connector_id, asset_external_id, status, risk);
CREATE INDEX findings_by_severity ON findings(severity DESC);
CREATE INDEX findings_by_status ON findings(status);
CREATE INDEX findings_by_fingerprint ON findings(fingerprint);
CREATE INDEX findings_by_cwe ON findings(cwe);
CREATE INDEX findings_by_last_found ON findings(last_found);
CREATE INDEX findings_by_risk ON findings(risk);
CREATE INDEX findings_by_cve ON findings(cve COLLATE NOCASE);
CREATE INDEX findings_by_cvss ON findings(cvss);
CREATE INDEX findings_by_name ON findings(name COLLATE NOCASE);
CREATE INDEX findings_by_issue_type ON findings(issue_type COLLATE NOCASE);
