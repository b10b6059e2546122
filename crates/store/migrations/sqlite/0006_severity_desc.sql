-- Listings and exports default to the most severe first, then by id. An index on
-- severity ascending read backwards yields ids in descending order, so SQLite sorted
-- every severity's rows again (a million rows held by the sorter); this one is read
-- forwards in exactly that order.
DROP INDEX findings_by_severity;
CREATE INDEX findings_by_severity ON findings(severity DESC);
