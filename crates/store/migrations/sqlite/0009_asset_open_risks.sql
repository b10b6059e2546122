-- An asset's open findings' risks as its score needs them (model::risk::OpenRisks):
-- their sum, the highest and how many share it. A run's end adds and takes away the
-- risks of the findings it opened, closed or rescored (src/open_risks.rs) instead of
-- reading every open finding of every asset it touched (at 1M findings ~0.1 s of a
-- 1.4 s delta). NULL means not known yet (assets of earlier versions, assets copied in
-- by `migrate`, new assets): the next run that touches the asset reads its findings once
-- and fills them in. Adding a column with no default rewrites nothing.
ALTER TABLE assets ADD COLUMN open_risk_sum INTEGER;
ALTER TABLE assets ADD COLUMN open_risk_top INTEGER;
ALTER TABLE assets ADD COLUMN open_risk_top_count INTEGER;
