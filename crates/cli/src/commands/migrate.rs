//! `migrate`: copies a whole store into another — typically the SQLite file into
//! PostgreSQL — in batches, with a progress bar on a terminal.

use crate::args::MigrateArgs;
use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use runner::paths;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use store::transfer::{CopyOptions, Table, copy};

pub async fn run(
    a: MigrateArgs,
    data_dir: &Path,
    store_flag: Option<&str>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let from = match a.from.or_else(|| store_flag.map(str::to_string)) {
        Some(url) => paths::home_relative_store(url),
        None => paths::store_file(data_dir).display().to_string(),
    };
    let to = paths::home_relative_store(a.to);
    if from == to {
        bail!("--from and --to name the same store");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let opts = CopyOptions {
        batch_size: a.batch_size.max(1),
        force: a.force,
        running: runner::lock_is_live,
        stop: Some(stop.clone()),
    };
    // Ctrl-C or SIGTERM stops the copy before its next batch (it was killed, silently).
    let signals = super::on_stop_signal(move |_| stop.store(true, Ordering::Relaxed));
    let shown_to = store::postgres::url::redact(&to);
    let copied = tokio::task::spawn_blocking(move || copy_stores(&from, &to, &opts, quiet))
        .await
        .context("the copy stopped unexpectedly")?;
    signals.abort();
    match (copied, signals.caught()) {
        (Err(e), Some(signal)) if matches!(e.downcast_ref(), Some(store::StoreError::Stopped)) => {
            eprintln!(
                "migrate {}: stopped before its end; {}",
                signal.reason(),
                left_unfinished(&shown_to)
            );
            Ok(ExitCode::from(signal.exit_code() as u8))
        }
        (copied, _) => copied,
    }
}

/// What a copy that stopped before its end left, and what to do.
fn left_unfinished(target: &str) -> String {
    format!(
        "{target} is marked as an unfinished copy (its connectors show Errored): run migrate \
         again with --force"
    )
}

/// Creates the missing directories of a SQLite target (`--to` is "created if needed"),
/// owner-only as the data directory: the store holds sealed secrets.
fn create_target_dir(to: &str) -> anyhow::Result<()> {
    let Ok((store::open::Backend::Sqlite, Some(file))) = store::open::backend(to) else {
        return Ok(());
    };
    match Path::new(file).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            paths::create_private_dir(dir).with_context(|| {
                format!(
                    "cannot create the directory {} of the target store",
                    dir.display()
                )
            })
        }
        _ => Ok(()),
    }
}

fn copy_stores(from: &str, to: &str, opts: &CopyOptions, quiet: bool) -> anyhow::Result<ExitCode> {
    // Opening a missing source would create it, empty, and copy that over the target.
    if !store::open::exists(from)? {
        bail!(
            "there is no store at {}",
            store::postgres::url::redact(from)
        );
    }
    let source = store::open(from).with_context(|| "cannot open the source store")?;
    // Opening the target creates it when it is not there: whatever refuses the copy
    // from the source alone does so first, so that a refusal leaves no empty target
    // behind. (A target that is not there cannot be the source, and cannot be full.)
    store::transfer::check_source(source.as_ref(), opts)?;
    create_target_dir(to)?;
    let target = store::open(to).with_context(|| "cannot open the target store")?;
    if source.identity()? == target.identity()? {
        bail!(
            "--from and --to name the same store ({}), spelled two ways",
            source.identity()?
        );
    }
    let shown_to = store::postgres::url::redact(to);
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>15} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} rows  {per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut current: Option<Table> = None;
    let copied = copy(
        source.as_ref(),
        target.as_ref(),
        opts,
        &mut |table, done, total| {
            if current != Some(table) {
                current = Some(table);
                bar.reset();
                bar.set_prefix(table.as_str());
                bar.set_length(total);
            }
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    crate::pipe::only_printing_remains();
    let copied = match copied {
        Err(store::StoreError::TargetNotEmpty { rows }) => {
            bail!("{shown_to} already holds {rows} rows; pass --force to replace its contents")
        }
        // Said and handled by the caller, or saying what it left themselves.
        Err(
            e @ (store::StoreError::Stopped
            | store::StoreError::SourceBusy { .. }
            | store::StoreError::SourceChanged { .. }
            | store::StoreError::CopyMismatch { .. }),
        ) => return Err(e.into()),
        // A store that failed under the copy (a lost connection, a full disk): which
        // copy, and what it left.
        other => other.with_context(|| {
            format!(
                "the copy into {shown_to} stopped; once it had begun, {} when the cause is \
                 fixed",
                left_unfinished(&shown_to)
            )
        })?,
    };
    let secs = started.elapsed().as_secs_f64();
    if !quiet {
        println!(
            "copied {} rows into {shown_to} in {secs:.1} s ({:.0} rows/s)",
            copied.total(),
            copied.total() as f64 / secs.max(1e-3)
        );
        for table in Table::ALL {
            println!("  {:<16} {:>10}", table.as_str(), copied.get(table));
        }
        println!(
            "Secrets were copied sealed: processes using the new store need the same master key \
             (the key file in the data directory, or its environment variable)."
        );
    }
    Ok(ExitCode::SUCCESS)
}
