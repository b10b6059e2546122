-- Findings in the listings' default order — most severe first, ties by id — straight
-- from an index. With the index on severity alone, PostgreSQL read and sorted every
-- finding of the first page's severity before returning it (about 0.2 s at 1M findings
-- for the first page of the dashboard, /api/findings or an export; a page after a
-- cursor, the whole of the cursor's severity, 0.4 s); this index gives both in about
-- a millisecond. It serves filters on severity as the old one did.
DROP INDEX IF EXISTS findings_by_severity;
CREATE INDEX findings_by_severity ON findings(severity DESC, id);
