//! `assets`, `findings` (with `--filter`, `--sort`, `--columns`), `finding ID`.

use super::Ctx;
use super::columns::{self, ASSET_DEFAULT, FINDING_DEFAULT};
use crate::args::{FindingArgs, ListArgs};
use crate::output;
use anyhow::Context;
use query::{Cursor, Entity, Field, Filter, Sort};
use std::process::ExitCode;
use store::ListQuery;

/// The store query of a listing; a mistake in `--filter` or `--sort` is shown with a caret
/// under its column.
fn query(a: &ListArgs, entity: Entity) -> anyhow::Result<ListQuery> {
    let filter = match a.filter.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Some(parse_filter(entity, text)?),
        None => None,
    };
    let sort = match a.sort.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Sort::parse_list(entity, text).map_err(|e| {
            anyhow::anyhow!("invalid --sort, column {}:\n{}", e.column, e.caret(text))
        })?,
        None => Vec::new(),
    };
    if a.dedupe && entity != Entity::Findings {
        anyhow::bail!("--dedupe groups findings only");
    }
    // Groups are listed most severe first; a finding's sort keys do not order them.
    if a.dedupe && !sort.is_empty() {
        anyhow::bail!("--dedupe lists weaknesses most severe first: it takes no --sort");
    }
    // A group's row is its own (fingerprint, sources, counts), not a finding's columns.
    if a.dedupe && !a.columns.is_empty() {
        anyhow::bail!(
            "--dedupe lists one row per weakness with its sources: it takes no --columns"
        );
    }
    let after = match a.after.as_deref() {
        Some(_) if entity != Entity::Findings => anyhow::bail!("--after pages findings only"),
        Some(token) => Some(Cursor::decode(token).context("invalid --after")?),
        None => None,
    };
    Ok(ListQuery {
        connector: a.connector.clone(),
        limit: a.limit,
        offset: a.offset,
        filter,
        sort,
        after,
    })
}

/// Parses a `--filter` for an entity, with the caret under a mistake.
pub fn parse_filter(entity: Entity, text: &str) -> anyhow::Result<Filter> {
    Filter::parse(entity, text)
        .map_err(|e| anyhow::anyhow!("invalid --filter, column {}:\n{}", e.column, e.caret(text)))
}

pub fn assets(ctx: &Ctx, a: ListArgs) -> anyhow::Result<ExitCode> {
    ctx.runner.require_connector(a.connector.as_deref())?;
    let fields = columns::resolve(Entity::Assets, &a.columns, ASSET_DEFAULT)?;
    let rows = ctx.runner.store.assets(&query(&a, Entity::Assets)?)?;
    print_rows(&a, &rows, &fields, columns::asset_value, "assets")
}

pub fn findings(ctx: &Ctx, a: ListArgs) -> anyhow::Result<ExitCode> {
    ctx.runner.require_connector(a.connector.as_deref())?;
    if a.dedupe {
        return super::dedupe::run(ctx, &query(&a, Entity::Findings)?, a.json);
    }
    let fields = columns::resolve(Entity::Findings, &a.columns, FINDING_DEFAULT)?;
    let page = ctx
        .runner
        .store
        .finding_page(&query(&a, Entity::Findings)?)?;
    let code = print_rows(&a, &page.items, &fields, columns::finding_value, "findings")?;
    if let Some(next) = page.next {
        eprintln!("next page: --after {}", next.encode());
    }
    Ok(code)
}

/// Prints listed rows: whole as JSON, the asked columns as JSON objects, or the
/// columns as a table with a count of `noun` under it.
fn print_rows<T: serde::Serialize>(
    a: &ListArgs,
    rows: &[T],
    fields: &[&'static Field],
    value: impl Fn(&Field, &T) -> serde_json::Value,
    noun: &str,
) -> anyhow::Result<ExitCode> {
    if a.json {
        if a.columns.is_empty() {
            output::json(&rows)?;
        } else {
            output::json(&columns::objects(rows, fields, value))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let headers: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let mut t = output::table(&headers);
    for r in rows {
        t.add_row(
            fields
                .iter()
                .map(|f| columns::cell(f, &value(f, r)))
                .collect::<Vec<_>>(),
        );
    }
    output::print_table(&t);
    eprintln!("{} {noun}", rows.len());
    Ok(ExitCode::SUCCESS)
}

/// How much of a long text (a description, a detail document) a finding's page shows.
const LONG_TEXT_SHOWN: usize = 2_000;

/// `text` indented under its title, cut after `max` characters with how much is left.
fn indented(text: &str, max: usize) -> String {
    let shown: String = text.chars().take(max).collect();
    let left = text.chars().count().saturating_sub(max);
    let mut out: String = output::text(&shown)
        .lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    if left > 0 {
        out.push_str(&format!("\n  … ({left} more characters; --json shows all)"));
    }
    out
}

pub fn finding(ctx: &Ctx, a: FindingArgs) -> anyhow::Result<ExitCode> {
    let store = &ctx.runner.store;
    let f = store
        .finding(a.id)?
        .with_context(|| format!("finding {} does not exist", a.id))?;
    let history = if a.history {
        Some(store.finding_history(a.id)?)
    } else {
        None
    };
    if a.json {
        output::json(&serde_json::json!({ "finding": f, "history": history }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let x = &f.finding;
    println!(
        "Finding {} ({} / {})",
        f.id,
        f.connector,
        output::line(&x.external_id)
    );
    println!(
        "  {} — {} — {}",
        output::line(&x.name),
        x.severity,
        x.status
    );
    println!(
        "  app:      {}",
        output::line(f.asset_name.as_deref().unwrap_or(&x.asset_external_id))
    );
    println!(
        "  location: {}",
        output::line(x.location.as_deref().unwrap_or("-"))
    );
    if let Some(cwe) = x.cwe {
        println!("  CWE:      {cwe}");
    }
    if let Some(cvss) = x.cvss {
        println!("  CVSS:     {cvss}");
    }
    if let Some(cve) = &x.cve {
        println!("  CVE:      {}", output::line(cve));
    }
    println!(
        "  first found {}, last found {}",
        output::time_opt(x.first_found),
        output::time_opt(x.last_found)
    );
    for (title, body) in [
        ("Description", &x.description),
        ("Solution", &x.solution),
        ("Detection", &x.detection),
    ] {
        if let Some(body) = body.as_deref().filter(|b| !b.trim().is_empty()) {
            println!("{title}:");
            println!("{}", indented(body, LONG_TEXT_SHOWN));
        }
    }
    if let Some(h) = history {
        println!("History:");
        for e in h {
            println!(
                "  {}  {} → {}  (run {})",
                output::time(e.at),
                e.old_status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "(new)".into()),
                e.new_status,
                e.run_id
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
