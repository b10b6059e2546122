//! The config file: where it is, `config validate`, applying it before a command that
//! runs or changes connectors, and comparing the store with it for one that shows them.

use super::Ctx;
use anyhow::bail;
use runner::config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "APPSCAN_BRIDGE_CONFIG";

/// The config file in force: the flag, else `$APPSCAN_BRIDGE_CONFIG` (when not empty),
/// else `<data dir>/config.toml` when it exists.
pub fn locate(flag: Option<PathBuf>, data_dir: &Path) -> Option<PathBuf> {
    flag.or_else(|| runner::paths::env_value(CONFIG_ENV).map(PathBuf::from))
        .map(runner::paths::home_relative)
        .or_else(|| Some(data_dir.join("config.toml")).filter(|p| p.exists()))
}

pub fn validate(file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let Some(file) = file else {
        bail!("no config file: give one (`config validate FILE`), set --config or ${CONFIG_ENV}");
    };
    // A secret variable that is not set is a problem here (the connector could not sync),
    // and so is an override variable that overrides nothing.
    let loaded = config::load_with(&file, &check_schedule).and_then(|c| {
        let mut problems: Vec<_> = c.unset_secrets().cloned().collect();
        problems.extend(c.stray_overrides.iter().cloned());
        if problems.is_empty() {
            Ok(c)
        } else {
            Err(problems)
        }
    });
    match loaded {
        Ok(c) => {
            println!(
                "{}: valid, {} connector(s): {}",
                file.display(),
                c.connectors.len(),
                c.connectors
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!("{} problem(s) in {}", problems.len(), file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A schedule `serve` could not run, found by `config validate` (and when the file is
/// applied) rather than by the scheduler.
fn check_schedule(text: &str) -> Result<(), String> {
    server::schedule::Schedule::check(text)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Reads and checks the config file, before anything is opened or created: a file with
/// problems changes nothing (it made a store and a master key in a new data directory
/// all the same).
pub fn load(file: Option<&Path>) -> anyhow::Result<Option<config::Config>> {
    let Some(file) = file else {
        return Ok(None);
    };
    let c = config::load_with(file, &check_schedule).map_err(|problems| {
        anyhow::anyhow!(
            "the config file has {} problem(s):\n{}",
            problems.len(),
            problems
                .iter()
                .map(|p| format!("  {p}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    for stray in &c.stray_overrides {
        eprintln!("warning: {stray}");
    }
    Ok(Some(c))
}

/// Applies the config file's connectors ([`load`]ed) to the store; returns their names. A
/// connector left without a key secret (its variable is not set in this shell) is warned
/// about.
pub fn apply(ctx: &Ctx, c: Option<&config::Config>) -> anyhow::Result<Vec<String>> {
    let Some(c) = c else {
        return Ok(Vec::new());
    };
    let applied = ctx.runner.apply_config(c)?;
    for w in &applied.warnings {
        eprintln!("warning: {w}");
    }
    Ok(applied.names)
}

/// For a command that does not apply the config file ([`load`]ed): warns in one line per
/// connector where the store differs from the file; returns the declared names.
pub fn compare(ctx: &Ctx, c: Option<&config::Config>) -> anyhow::Result<Vec<String>> {
    let Some(c) = c else {
        return Ok(Vec::new());
    };
    for w in ctx.runner.config_differences(c)? {
        eprintln!("warning: {w}");
    }
    Ok(c.connectors.iter().map(|d| d.name.clone()).collect())
}

/// For `serve` and `status` with a config file ([`load`]ed): warns about the stored
/// connectors with a schedule that the file does not declare (taken out of it or
/// renamed), which `serve` keeps syncing.
pub fn warn_undeclared(ctx: &Ctx, c: Option<&config::Config>) -> anyhow::Result<()> {
    let Some(c) = c else {
        return Ok(());
    };
    for w in ctx.runner.undeclared_schedules(c)? {
        eprintln!("warning: {w}");
    }
    Ok(())
}
