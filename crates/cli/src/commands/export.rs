//! `export --format kdi|ocsf|sarif|csv|jsonl [--filter ...] [--out PATH]`.
//!
//! The export crate streams from the store; this module turns flags into
//! [`export::ExportOptions`], shows a progress bar on a terminal (counting findings
//! against the filter's total) and prints what was written to stderr, so standard output
//! carries only the export itself.

use super::Ctx;
use super::list::parse_filter;
use crate::args::ExportArgs;
use anyhow::{Context, bail};
use export::{ExportOptions, Format, OcsfClass};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use query::Entity;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::ListQuery;

/// Reads `--kdi-scores 0,3,6,9,10`.
fn kdi_scores(text: &str) -> anyhow::Result<[u8; 5]> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut out = [0u8; 5];
    if parts.len() != 5 {
        bail!(
            "--kdi-scores takes five scores (Informational,Low,Medium,High,Critical), not '{text}'"
        );
    }
    for (slot, p) in out.iter_mut().zip(&parts) {
        *slot = p
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= 10)
            .with_context(|| format!("--kdi-scores: '{p}' is not a score from 0 to 10"))?;
    }
    Ok(out)
}

/// Refuses a flag of another format than the one asked for: `-f csv --ocsf-class 2007`
/// (OCSF meant) wrote CSV and succeeded, the flag silently ignored.
fn refuse_other_formats_flags(a: &ExportArgs, format: Format) -> anyhow::Result<()> {
    let given = [
        ("--max-file-size", Format::Kdi, a.max_file_size.is_some()),
        ("--kdi-scores", Format::Kdi, a.kdi_scores.is_some()),
        ("--kdi-vulns", Format::Kdi, a.kdi_vulns),
        ("--kdi-findings", Format::Kdi, a.kdi_findings),
        ("--ocsf-class", Format::Ocsf, a.ocsf_class.is_some()),
        (
            "--sarif-max-results",
            Format::Sarif,
            a.sarif_max_results.is_some(),
        ),
        ("--csv-keep-formulas", Format::Csv, a.csv_keep_formulas),
    ];
    for (flag, owner, set) in given {
        if set && owner != format {
            bail!(
                "{flag} applies to --format {} only, not {}",
                owner.name(),
                format.name()
            );
        }
    }
    Ok(())
}

/// The export's options from the command line.
fn options(a: &ExportArgs) -> anyhow::Result<ExportOptions> {
    let Some(format) = Format::parse(&a.format) else {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        bail!(
            "--format: unknown format '{}' (expected {})",
            a.format,
            names.join(", ")
        );
    };
    refuse_other_formats_flags(a, format)?;
    let mut o = ExportOptions::new(format);
    o.connector = a.connector.clone();
    o.filter = match a.filter.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Some(parse_filter(Entity::Findings, text)?),
        None => None,
    };
    o.out = a.out.clone();
    if let Some(size) = &a.max_file_size {
        o.max_file_size =
            export::parse_size(size).map_err(|e| anyhow::anyhow!("--max-file-size: {e}"))?;
    }
    if let Some(scores) = &a.kdi_scores {
        o.kdi_scores = kdi_scores(scores)?;
    }
    o.kdi_vulns = a.kdi_vulns;
    if let Some(class) = a.ocsf_class {
        o.ocsf_class = OcsfClass::from_uid(class).with_context(|| {
            format!(
                "--ocsf-class: {class} is not 2002 (Vulnerability Finding) or 2007 (Application Security Posture Finding)"
            )
        })?;
    }
    if let Some(n) = a.sarif_max_results {
        o.sarif_max_results = usize::try_from(n).unwrap_or(usize::MAX);
    }
    o.csv_keep_formulas = a.csv_keep_formulas;
    if format.writes_directory()
        && let Some(p) = &o.out
        && p.is_file()
    {
        bail!(
            "--out {}: kdi writes one or more files into a directory, and this is a file",
            p.display()
        );
    }
    Ok(o)
}

/// A bar over the number of findings to write; hidden off a terminal or with --quiet.
fn bar(ctx: &Ctx, o: &ExportOptions) -> anyhow::Result<ProgressBar> {
    if ctx.quiet || !std::io::stderr().is_terminal() {
        return Ok(ProgressBar::hidden());
    }
    let total = ctx.runner.store.count_findings(&ListQuery {
        connector: o.connector.clone(),
        filter: o.filter.clone(),
        ..Default::default()
    })?;
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "export {spinner} [{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} findings ({per_sec})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Ok(bar)
}

pub fn run(ctx: &Ctx, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let mut o = options(&a)?;
    ctx.runner.require_connector(a.connector.as_deref())?;
    let bar = bar(ctx, &o)?;
    let stop = Arc::new(AtomicBool::new(false));
    o.stop = Some(stop.clone());
    // Ctrl-C or SIGTERM sets the stop flag, which the export reads between findings.
    let signals = super::on_stop_signal(move |_| stop.store(true, Ordering::Relaxed));
    let result = export::export_with_progress(ctx.runner.store.as_ref(), &o, &mut |n| {
        if n % 1024 == 0 {
            bar.set_position(n);
        }
    });
    signals.abort();
    bar.finish_and_clear();
    if let (Err(export::ExportError::Stopped), Some(signal)) = (&result, signals.caught()) {
        let out = match &o.out {
            // KDI writes a file per application: those finished before the stop replaced
            // their earlier ones, the others did not.
            _ if o.format.writes_directory() => format!(
                "{} may now hold this export's finished files beside earlier ones: export \
                 again before uploading it",
                o.out
                    .as_deref()
                    .unwrap_or(std::path::Path::new("."))
                    .display()
            ),
            Some(p) if p.as_os_str() != "-" => format!("{} was not written over", p.display()),
            _ => "standard output holds what was written before".to_string(),
        };
        eprintln!(
            "{} export {}: stopped before its end; {out}",
            o.format.name(),
            signal.reason()
        );
        return Ok(ExitCode::from(signal.exit_code() as u8));
    }
    let report = result.with_context(|| format!("{} export failed", o.format.name()))?;
    if !ctx.quiet && report.files.is_empty() && o.format.writes_directory() {
        // KDI writes a file per application: none when nothing matched.
        eprintln!("Exported 0 findings as kdi: nothing matched, no file was written.");
    } else if !ctx.quiet {
        let files = match report.files.len() {
            0 => "standard output".to_string(),
            1 => report.files[0].display().to_string(),
            n if o.format == export::Format::Sarif => format!(
                "{n} files: {} (a file holds at most {} runs, as GitHub takes; upload each \
                 on its own)",
                report
                    .files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                export::sarif::MAX_RUNS_PER_FILE
            ),
            n => format!(
                "{n} files in {}",
                o.out
                    .as_deref()
                    .unwrap_or(std::path::Path::new("."))
                    .display()
            ),
        };
        eprintln!(
            "Exported {} findings as {} ({} bytes) to {files}.",
            report.findings,
            o.format.name(),
            report.bytes
        );
    }
    if let Some(first) = report.oversized.first() {
        eprintln!(
            "warning: {} file(s) are larger than --max-file-size ({} is {} bytes): one finding \
             with its vuln_def alone is larger, and a finding is never split",
            report.oversized.len(),
            first.display(),
            std::fs::metadata(first).map_or(0, |m| m.len())
        );
    }
    if o.format.writes_directory() {
        let dir = o.out.as_deref().unwrap_or(std::path::Path::new("."));
        let others = other_json_files(dir, &report.files);
        if others > 0 {
            eprintln!(
                "warning: {} also holds {others} .json file(s) this export did not write (an \
                 earlier export's?); uploading the directory would load them too: export into \
                 an empty directory",
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How many `.json` files in `dir` are not among `written`: an earlier KDI export's parts
/// that this one did not replace would be uploaded with it if the directory is.
fn other_json_files(dir: &std::path::Path, written: &[std::path::PathBuf]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let written: std::collections::HashSet<_> =
        written.iter().filter_map(|p| p.file_name()).collect();
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            std::path::Path::new(&name)
                .extension()
                .is_some_and(|x| x == "json")
                && !written.contains(name.as_os_str())
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores() {
        assert_eq!(kdi_scores("0,3,6,9,10").expect("ok"), [0, 3, 6, 9, 10]);
        assert_eq!(kdi_scores(" 0, 3 ,6,8,10").expect("ok"), [0, 3, 6, 8, 10]);
        assert!(kdi_scores("0,3,6,9").is_err());
        assert!(kdi_scores("0,3,6,9,11").is_err());
    }
}
