-- Filters, risk scores and the known-exploited (KEV) list.
-- Risk is 0-1000 (model::risk); kept per finding and per asset so `--sort risk` and
-- `risk>=700` use an index. Rows written before this migration are scored on open.
ALTER TABLE findings ADD COLUMN risk INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN risk INTEGER NOT NULL DEFAULT 0;
CREATE INDEX findings_by_risk ON findings(risk);
CREATE INDEX assets_by_risk ON assets(risk);

-- Indexes for filterable fields. Text filters are case-insensitive LIKE patterns, which
-- SQLite serves from NOCASE indexes (exact values and prefixes such as Shop*).
CREATE INDEX findings_by_cve ON findings(cve COLLATE NOCASE);
CREATE INDEX findings_by_cvss ON findings(cvss);
CREATE INDEX findings_by_name ON findings(name COLLATE NOCASE);
CREATE INDEX findings_by_issue_type ON findings(issue_type COLLATE NOCASE);
CREATE INDEX assets_by_name_nocase ON assets(name COLLATE NOCASE);

-- Known-exploited CVEs, from `appscan-bridge kev import FILE` (CISA KEV JSON or a list).
CREATE TABLE kev (
    cve         TEXT PRIMARY KEY,      -- upper case CVE-YYYY-NNNN
    added       TEXT,                  -- the list's dateAdded
    name        TEXT,
    imported_at TEXT NOT NULL
);
