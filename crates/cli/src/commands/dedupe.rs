//! `findings --dedupe`: one row per cross-source fingerprint, with the connectors
//! (sources) that reported it. The rule is in `model::fingerprint` and the README's
//! "Dedupe across sources".

use super::Ctx;
use crate::output;
use std::process::ExitCode;
use store::ListQuery;

pub fn run(ctx: &Ctx, q: &ListQuery, json: bool) -> anyhow::Result<ExitCode> {
    let groups = ctx.runner.store.dedupe(q)?;
    if json {
        output::json(&groups)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&[
        "fingerprint",
        "severity",
        "name",
        "asset",
        "location",
        "element",
        "cwe",
        "findings",
        "open",
        "sources",
    ]);
    for g in &groups {
        t.add_row(vec![
            g.fingerprint.chars().take(12).collect::<String>(),
            g.severity.to_string(),
            output::cut(&g.name, 40),
            output::cut(g.asset.as_deref().unwrap_or("-"), 24),
            output::cut(g.location.as_deref().unwrap_or("-"), 50),
            output::cut(g.element.as_deref().unwrap_or("-"), 20),
            g.cwe
                .map(|c| format!("CWE-{c}"))
                .unwrap_or_else(|| "-".into()),
            g.findings.to_string(),
            g.open.to_string(),
            g.sources.join(", "),
        ]);
    }
    output::print_table(&t);
    let multi = groups.iter().filter(|g| g.sources.len() > 1).count();
    eprintln!(
        "{} weaknesses ({} findings); {multi} seen by more than one source",
        groups.len(),
        groups.iter().map(|g| g.findings).sum::<u64>()
    );
    Ok(ExitCode::SUCCESS)
}
