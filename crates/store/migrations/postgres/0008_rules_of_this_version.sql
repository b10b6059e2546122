-- No change of tables. Since schema 7, findings' statuses (a finding a full run closed
-- that comes back is REOPENED, a remap keeps what runs closed) and connector settings
-- (date_format, fetch_details, ...) follow rules older binaries do not know: an older
-- binary on this store would undo them (drop settings it does not know, reopen or renew
-- findings by its own rules). This version makes those binaries refuse the store.
SELECT 1;
