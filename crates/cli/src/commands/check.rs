//! `check NAME` and `remap NAME`.

use super::Ctx;
use crate::args::{CheckArgs, RemapArgs};
use crate::output;
use crate::progress::Bar;
use runner::check::{Outcome, Resolver};
use std::process::ExitCode;

pub async fn check(ctx: &Ctx, a: CheckArgs) -> anyhow::Result<ExitCode> {
    let checks = ctx.runner.check(&a.name, &Resolver::System).await?;
    crate::pipe::only_printing_remains();
    let failed = checks.iter().any(|c| c.outcome == Outcome::Failed);
    if a.json {
        output::json(
            &serde_json::json!({"connector": a.name, "passed": !failed, "checks": checks}),
        )?;
    } else {
        for (i, c) in checks.iter().enumerate() {
            let mark = match c.outcome {
                Outcome::Passed => "passed ",
                Outcome::Failed => "FAILED ",
                Outcome::Skipped => "skipped",
            };
            println!(
                "{}. {mark}  {:<34} {}",
                i + 1,
                c.name,
                output::line(&c.reason)
            );
            if c.outcome == Outcome::Failed
                && let Some(h) = &c.hint
            {
                println!("             hint: {}", output::line(h));
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn remap(ctx: &Ctx, a: RemapArgs) -> anyhow::Result<ExitCode> {
    let bar = Bar::new(ctx.quiet || a.json, &a.name);
    let opts = runner::SyncOptions::default();
    let stop = super::cancel_on_stop_signal(opts.cancel.clone());
    let report = ctx.runner.remap(&a.name, opts, &bar).await;
    bar.finish();
    stop.abort();
    crate::pipe::only_printing_remains();
    let report = report?;
    if a.json {
        output::json(&serde_json::json!({"run": report.run, "issues": report.issues}))?;
    } else {
        super::sync::print_report(&report);
    }
    Ok(super::run_exit_code(report.run.state, stop.caught()))
}
