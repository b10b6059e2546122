-- An asset's risk is read from the status and risk of all its findings. With these two
-- columns in the index the read never touches the table (findings rows carry the raw
-- records, and reading a million of them at random costs a sync seconds).
DROP INDEX findings_by_asset;
CREATE INDEX findings_by_asset ON findings(connector_id, asset_external_id, status, risk);
