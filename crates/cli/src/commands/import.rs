//! `import FILE [--connector NAME] [--app NAME]`: an AppScan XML report (plain or gzip)
//! as one full run of an `xml` connector, in one transaction. Progress is shown in bytes
//! read (on a terminal, not with `--quiet`); Ctrl-C or SIGTERM stops it and stores nothing.
//! `--dry-run` reads and maps the report the same way and stores nothing; it says how
//! the findings compare with what the connector has stored.

use super::Ctx;
use crate::args::ImportArgs;
use crate::output;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runner::import::DryRun;
use runner::{ImportInput, SyncOptions};
use std::io::IsTerminal;
use std::process::ExitCode;
use store::RunState;

/// A byte-count progress bar, hidden off a terminal or with `--quiet`.
struct ByteBar(ProgressBar);

impl ByteBar {
    fn new(hidden: bool, label: &str) -> ByteBar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if hidden || !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{elapsed_precise}] {bar:30.cyan/blue} {bytes}/{total_bytes} ({bytes_per_sec})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(label.to_string());
        ByteBar(bar)
    }
}

impl runner::Progress for ByteBar {
    fn bytes(&self, read: u64, total: u64) {
        self.0.set_length(total);
        self.0.set_position(read);
    }
}

/// `no_store`: a dry run's store did not exist (its name): `ctx` holds a temporary one.
pub async fn run(ctx: &Ctx, a: ImportArgs, no_store: Option<&str>) -> anyhow::Result<ExitCode> {
    // An empty name was taken as none, and the application was named after the file.
    if a.app.as_deref().is_some_and(|n| n.trim().is_empty()) {
        anyhow::bail!(
            "--app is empty: name the application, or leave the flag out to use the report's"
        );
    }
    let opts = SyncOptions::default();
    let stop = super::cancel_on_stop_signal(opts.cancel.clone());
    let label = a
        .file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bar = ByteBar::new(ctx.quiet || a.json, &label);
    let input = ImportInput {
        path: a.file.clone(),
        app: a.app.clone(),
        allow_older: a.allow_older,
    };
    if a.dry_run {
        let dry = ctx
            .runner
            .dry_run_import(a.connector.as_deref(), input, opts.cancel.clone(), &bar)
            .await;
        bar.0.finish_and_clear();
        stop.abort();
        return print_dry_run(&a, &dry?, no_store);
    }
    let report = ctx
        .runner
        .import(a.connector.as_deref(), input, opts, &bar)
        .await;
    bar.0.finish_and_clear();
    stop.abort();
    crate::pipe::only_printing_remains();
    let report = report?;
    if a.json {
        output::json(&serde_json::json!({
            "file": a.file,
            "run": report.run,
            "elapsed_seconds": report.elapsed.as_secs_f64(),
            "issues": report.issues,
        }))?;
    } else {
        super::sync::print_report(&report);
        if report.run.state != RunState::Processed {
            let c = &report.run.counters;
            match c.inserted + c.updated {
                0 => eprintln!("nothing from {} was stored", a.file.display()),
                n => eprintln!(
                    "{n} findings from {} were stored before the run stopped; nothing was closed",
                    a.file.display()
                ),
            }
        }
    }
    Ok(super::run_exit_code(report.run.state, stop.caught()))
}

/// Records a dry run lists before it points at `--json`.
const DRY_RUN_SHOWN: usize = 10;

fn print_dry_run(a: &ImportArgs, dry: &DryRun, no_store: Option<&str>) -> anyhow::Result<ExitCode> {
    if a.json {
        output::json(&serde_json::json!({
            "file": a.file,
            "store_exists": no_store.is_none(),
            "dry_run": dry,
        }))?;
    } else {
        println!(
            "dry run of {} in {:.1} s — an import would store {} findings of {} application(s); {} records would fail, {} warnings; nothing was stored",
            a.file.display(),
            dry.elapsed_seconds,
            dry.findings,
            dry.assets,
            dry.failed,
            dry.warnings
        );
        match &dry.reason {
            Some(reason) => println!(
                "  the import would end {:?}: {}",
                dry.outcome,
                output::line(reason)
            ),
            None => println!("  the import would end {:?}", dry.outcome),
        }
        let c = &dry.changes;
        match no_store {
            Some(store) => println!(
                "  there is no store at {store}: nothing to compare with, every finding would be new (nothing was created there)"
            ),
            None => println!(
                "  against the store: {} new, {} changed, {} unchanged; {} stored finding(s) would be closed",
                c.inserted, c.updated, c.unchanged, c.closed
            ),
        }
        for i in dry.issues.iter().take(DRY_RUN_SHOWN) {
            println!(
                "  {:?}: {}: {}",
                i.level,
                output::line(&i.location),
                output::line(&i.message)
            );
        }
        let more = (dry.failed + dry.warnings).saturating_sub(DRY_RUN_SHOWN as u64);
        if dry.issues.len() > DRY_RUN_SHOWN && more > 0 {
            println!(
                "  … and {more} more (--json lists the first {})",
                dry.issues.len()
            );
        }
    }
    // As the import itself would exit: a report with no data is Aborted, not a failure.
    let would_succeed = matches!(dry.outcome, RunState::Processed | RunState::Aborted);
    Ok(if dry.failed == 0 && would_succeed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
