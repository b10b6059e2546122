//! `sync NAME`: one run with a progress bar; Ctrl-C or SIGTERM stops it cleanly.

use super::Ctx;
use crate::args::SyncArgs;
use crate::output;
use crate::progress::Bar;
use runner::{RunReport, SyncOptions};
use std::process::ExitCode;

pub async fn run(ctx: &Ctx, a: SyncArgs) -> anyhow::Result<ExitCode> {
    let opts = SyncOptions {
        full: a.full,
        ..SyncOptions::default()
    };
    let stop = super::cancel_on_stop_signal(opts.cancel.clone());
    let bar = Bar::new(ctx.quiet || a.json, &a.name);
    let report = ctx.runner.sync(&a.name, opts, &bar).await;
    bar.finish();
    stop.abort();
    crate::pipe::only_printing_remains();
    let report = report?;
    if a.json {
        output::json(&serde_json::json!({
            "run": report.run,
            "elapsed_seconds": report.elapsed.as_secs_f64(),
            "records_per_second": report.rate(),
            "issues": report.issues,
        }))?;
    } else {
        print_report(&report);
    }
    Ok(super::run_exit_code(report.run.state, stop.caught()))
}

/// A run in a few lines, for people.
pub fn print_report(r: &RunReport) {
    println!(
        "{} run {} of '{}' {} in {} — fetched {} ({:.0} records/s): {}",
        r.run.mode.as_str(),
        r.run.id,
        r.run.connector,
        r.run.state,
        output::duration(r.elapsed),
        r.run.counters.fetched,
        r.rate(),
        output::counters(&r.run.counters)
    );
    if let Some(reason) = &r.run.reason {
        println!("  {}", output::line(reason));
    }
    for i in r.issues.iter().take(5) {
        println!(
            "  {:?}: {}: {}",
            i.level,
            output::line(&i.location),
            output::line(&i.message)
        );
    }
    if r.issues.len() > 5 {
        println!(
            "  … and {} more: appscan-bridge runs {} --run {} --errors",
            r.issues.len() - 5,
            r.run.connector,
            r.run.id
        );
    }
}
