//! `status [NAME]`, `runs NAME`.

use super::Ctx;
use crate::args::{RunsArgs, StatusArgs};
use crate::output;
use std::process::ExitCode;

pub fn status(ctx: &Ctx, a: StatusArgs) -> anyhow::Result<ExitCode> {
    let store = &ctx.runner.store;
    let connectors = match &a.name {
        Some(n) => vec![ctx.runner.connector(n)?],
        None => store.connectors()?,
    };
    let mut rows = Vec::new();
    for mut c in connectors {
        let last = store.last_run(c.id)?;
        // A Processing run whose process is gone says so instead of "running".
        let interrupted = ctx.runner.interruption(&c)?;
        if interrupted.is_some() {
            c.state_reason = interrupted.clone();
        }
        rows.push((c, last, interrupted.is_some()));
    }
    if a.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(c, r, interrupted)| {
                serde_json::json!({
                    "name": c.name, "kind": c.kind, "state": c.state, "reason": c.state_reason,
                    "interrupted": interrupted,
                    "cursor": c.cursor, "last_run": r,
                    "last_run_seconds": r.as_ref().and_then(|r| r.duration()).map(|d| d.num_milliseconds() as f64 / 1000.0),
                })
            })
            .collect();
        output::json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&[
        "connector",
        "state",
        "last run",
        "mode",
        "took",
        "fetched",
        "ins/upd/same",
        "failed",
        "reason",
    ]);
    // Reasons too long for their cell, whole below the table: a scheduled connector's
    // "next run …; last run N Errored: why" was cut before its why.
    let mut long_reasons = Vec::new();
    for (c, r, interrupted) in rows {
        let reason = c.state_reason.as_deref().unwrap_or("");
        let cell = output::cut(reason, REASON_CELL);
        if cell != reason {
            long_reasons.push(format!("{}: {}", c.name, output::line(reason)));
        }
        let (when, mode, took, fetched, changes, failed) = match &r {
            Some(r) => (
                output::time(r.started_at),
                r.mode.as_str().to_string(),
                r.duration()
                    .and_then(|d| d.to_std().ok())
                    .map(output::duration)
                    .unwrap_or_else(|| {
                        if interrupted {
                            "interrupted"
                        } else {
                            "running"
                        }
                        .to_string()
                    }),
                r.counters.fetched.to_string(),
                format!(
                    "{}/{}/{}",
                    r.counters.inserted, r.counters.updated, r.counters.unchanged
                ),
                r.counters.failed.to_string(),
            ),
            None => Default::default(),
        };
        t.add_row(vec![
            c.name,
            c.state.to_string(),
            when,
            mode,
            took,
            fetched,
            changes,
            failed,
            cell,
        ]);
    }
    output::print_table(&t);
    for reason in long_reasons {
        println!("{reason}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The characters of a reason shown in the table.
const REASON_CELL: usize = 60;

pub fn runs(ctx: &Ctx, a: RunsArgs) -> anyhow::Result<ExitCode> {
    let store = &ctx.runner.store;
    let c = ctx.runner.connector(&a.name)?;
    if let Some(id) = a.run {
        let run = store
            .run(id)?
            .filter(|r| r.connector_id == c.id)
            .ok_or_else(|| anyhow::anyhow!("run {id} is not a run of connector '{}'", c.name))?;
        let issues = if a.errors {
            store.run_issues(id)?
        } else {
            Vec::new()
        };
        if a.json {
            output::json(&serde_json::json!({"run": run, "issues": issues}))?;
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "run {} ({}) {} from {} to {} — fetched {}: {}",
            run.id,
            run.mode.as_str(),
            run.state,
            output::time(run.started_at),
            output::time_opt(run.ended_at),
            run.counters.fetched,
            output::counters(&run.counters)
        );
        if let Some(r) = &run.reason {
            println!("  {}", output::line(r));
        }
        if a.errors {
            if issues.is_empty() {
                println!("  no record errors or warnings");
            }
            for i in issues {
                println!(
                    "  {:?}\t{}\t{}",
                    i.level,
                    output::line(&i.location),
                    output::line(&i.message)
                );
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runs = store.runs(c.id, a.limit)?;
    if a.json {
        output::json(&runs)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = output::table(&[
        "run",
        "start",
        "end",
        "mode",
        "state",
        "fetched",
        "inserted",
        "updated",
        "unchanged",
        "failed",
        "retries",
        "reason",
    ]);
    for r in runs {
        let c = r.counters;
        t.add_row(vec![
            r.id.to_string(),
            output::time(r.started_at),
            output::time_opt(r.ended_at),
            r.mode.as_str().into(),
            r.state.to_string(),
            c.fetched.to_string(),
            c.inserted.to_string(),
            c.updated.to_string(),
            c.unchanged.to_string(),
            c.failed.to_string(),
            c.retries.to_string(),
            output::cut(r.reason.as_deref().unwrap_or(""), 50),
        ]);
    }
    output::print_table(&t);
    Ok(ExitCode::SUCCESS)
}
