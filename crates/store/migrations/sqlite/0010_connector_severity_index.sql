-- One connector's findings, most severe first (then by id, the rowid every index ends
-- with): the default order of a listing filtered to a connector, as the dashboard and
-- `findings --connector` show it. Without it SQLite read all of the connector's rows
-- through the connector's other indexes and sorted them before the first page (2.6 s
-- for a connector of 1M findings; through this index, 1 ms). Dropped during a first
-- load and built at its end, like the other secondary indexes (src/sqlite/indexes.rs).
CREATE INDEX findings_by_connector_severity ON findings(connector_id, severity DESC);
