-- An asset's open findings' risks as its score needs them (model::risk::OpenRisks):
-- their sum, the highest and how many share it. A batch adds and takes away the risks
-- of the findings it opens, closes or rescores, so a delta no longer reads every finding
-- of every asset it touches: at 1M findings that read was 22 s of a 33 s delta, rows
-- scattered over the whole table. NULL means not known yet (assets of earlier versions,
-- assets copied in by `migrate`, new assets): the next batch that touches the asset
-- reads its findings once and fills them in.
ALTER TABLE assets
    ADD COLUMN open_risk_sum BIGINT,
    ADD COLUMN open_risk_top INTEGER,
    ADD COLUMN open_risk_top_count INTEGER;
