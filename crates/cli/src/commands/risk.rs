//! `kev import FILE` and `rescore`: the known-exploited list and the stored risk scores.

use super::Ctx;
use crate::args::KevCommand;
use crate::output;
use anyhow::Context;
use serde_json::json;
use std::process::ExitCode;

/// The list a `kev import` names, read before the store is opened: a file that is no
/// KEV list leaves a new data directory as it was (it made a store and a master key).
pub fn read_kev(cmd: &KevCommand) -> anyhow::Result<Vec<model::kev::KevEntry>> {
    let KevCommand::Import { file, .. } = cmd;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    model::kev::parse(&text).with_context(|| format!("{} is not a KEV list", file.display()))
}

pub fn kev(
    ctx: &Ctx,
    cmd: KevCommand,
    entries: Vec<model::kev::KevEntry>,
) -> anyhow::Result<ExitCode> {
    let KevCommand::Import {
        file,
        replace,
        no_rescore,
        json,
    } = cmd;
    let store = &ctx.runner.store;
    // The list and the scores change together: a process killed between the two left
    // findings flagged known-exploited with their old scores.
    let (imported, rescored) = if no_rescore {
        (store.import_kev(&entries, replace)?, None)
    } else {
        let (imported, rescored) = store
            .import_kev_and_rescore(&entries, replace)
            .context("the list was not imported, and no score changed")?;
        (imported, Some(rescored))
    };
    if json {
        output::json(&json!({
            "read": imported.read,
            "before": imported.before,
            "total": imported.total,
            "matching_findings": imported.matching_findings,
            "rescored": rescored.as_ref().map(|r| json!({
                "findings": r.findings, "changed": r.changed, "assets": r.assets,
            })),
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Read {} CVEs from {}; the list had {}, now {}; {} stored findings have a listed CVE.",
        imported.read,
        file.display(),
        imported.before,
        imported.total,
        imported.matching_findings
    );
    match rescored {
        Some(r) => println!(
            "Rescored {} findings ({} changed) and {} assets.",
            r.findings, r.changed, r.assets
        ),
        None => println!("Scores are unchanged until `appscan-bridge rescore`."),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn rescore(ctx: &Ctx, json: bool) -> anyhow::Result<ExitCode> {
    let r = ctx.runner.store.rescore()?;
    if json {
        output::json(&json!({"findings": r.findings, "changed": r.changed, "assets": r.assets}))?;
    } else {
        println!(
            "Rescored {} findings ({} changed) and {} assets.",
            r.findings, r.changed, r.assets
        );
    }
    Ok(ExitCode::SUCCESS)
}
