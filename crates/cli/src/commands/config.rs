//! The config file: where it is, `config validate`, and applying it before a command.

use super::Ctx;
use anyhow::bail;
use runner::config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "APPSCAN_BRIDGE_CONFIG";

/// The config file in force: the flag, else `$APPSCAN_BRIDGE_CONFIG`, else
/// `<data dir>/config.toml` when it exists.
pub fn locate(flag: Option<PathBuf>, data_dir: &Path) -> Option<PathBuf> {
    flag.or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from))
        .or_else(|| Some(data_dir.join("config.toml")).filter(|p| p.exists()))
}

pub fn validate(file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let Some(file) = file else {
        bail!("no config file: give one (`config validate FILE`), set --config or ${CONFIG_ENV}");
    };
    let loaded = config::load(&file).and_then(|c| {
        let problems = schedule_problems(&file, &c);
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

/// Schedules `serve` could not run, checked here so `config validate` finds them before
/// `serve` does; the line is the first `schedule` line holding the text.
fn schedule_problems(file: &Path, c: &config::Config) -> Vec<config::ConfigProblem> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    c.connectors
        .iter()
        .filter_map(|d| {
            let schedule = d.settings.schedule.as_deref()?;
            let err = server::schedule::Schedule::parse(schedule).err()?;
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("schedule") && l.contains(schedule))
                .map_or(1, |i| i + 1);
            Some(config::ConfigProblem {
                file: file.display().to_string(),
                line,
                message: format!("connector '{}': {err}", d.name),
            })
        })
        .collect()
}

/// Registers or updates the connectors the config file declares.
pub fn apply(ctx: &Ctx, file: Option<PathBuf>) -> anyhow::Result<()> {
    let Some(file) = file else {
        return Ok(());
    };
    let c = config::load(&file).map_err(|problems| {
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
    ctx.runner.apply_config(&c)?;
    Ok(())
}
