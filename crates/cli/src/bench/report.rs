//! The benchmark's outputs: a Markdown table and a JSON file (medians, spreads and every
//! sample), the targets the issue sets with whether this run met them, and the machine.

use super::scale::Scale;
use super::stats::Summary;
use serde::Serialize;
use std::fmt::Write as _;

/// One measure of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub scenario: String,
    pub measure: String,
    pub unit: String,
    #[serde(flatten)]
    pub summary: Summary,
    /// The measured children's CPU time (user + system), in the row's unit, for a row of
    /// wall times; `None` for other rows and for what runs in this process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Summary>,
}

/// A target and what this run measured against it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub what: String,
    pub measured: String,
    /// `None` when the run lacks the measures (a scenario was skipped).
    pub met: Option<bool>,
}

/// Everything one `bench` run produced.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scale: Scale,
    pub findings: usize,
    pub started: String,
    /// Why this report is not a whole run's (still going, stopped, failed); `None` for a
    /// run that finished.
    pub incomplete: Option<String>,
    /// The scenarios this run measured, as `--scenarios` names them.
    pub scenarios: Vec<String>,
    /// The same in words: "all (…)" or "only x, y (of …)".
    #[serde(skip)]
    pub scenarios_described: String,
    pub machine: String,
    /// The 1, 5 and 15 minute load averages when the run started and when this report
    /// was made: a run on a busy machine shows it.
    pub load_start: Option<[f64; 3]>,
    pub load_end: Option<[f64; 3]>,
    pub settings: String,
    pub peers: Option<String>,
    pub rows: Vec<Row>,
    /// Counts that differ from the data's, peers that failed.
    pub notes: Vec<String>,
    pub targets: Vec<Target>,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "Scale **{}** ({} findings), {}; {}.\n\nScenarios: {}.\n\nMachine: {}.\n",
            self.scale.name(),
            self.findings,
            self.started,
            self.settings,
            self.scenarios_described,
            self.machine
        );
        let _ = writeln!(
            md,
            "Load average (1, 5, 15 min): {} at the start, {} at the end.\n",
            load(self.load_start),
            load(self.load_end)
        );
        if let Some(why) = &self.incomplete {
            let _ = writeln!(
                md,
                "**Incomplete**: {why}; the rows are those of the scenarios that finished.\n"
            );
        }
        if let Some(p) = &self.peers {
            let _ = writeln!(md, "Peers: {p}.\n");
        }
        md.push_str(
            "| Scenario | Measure | Median | Spread (min – max) | Runs | CPU (user+sys), median |\n",
        );
        md.push_str("|---|---|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let unit = if r.unit.is_empty() {
                String::new()
            } else {
                format!(" {}", r.unit)
            };
            let cpu = r
                .cpu
                .as_ref()
                .map(|c| format!("{}{unit}", num(c.median)))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | {} | {}{unit} | {} – {} | {} | {cpu} |",
                r.scenario,
                r.measure,
                num(r.summary.median),
                num(r.summary.min),
                num(r.summary.max),
                r.summary.samples.len()
            );
        }
        if !self.notes.is_empty() {
            md.push_str("\nNotes:\n\n");
            for n in &self.notes {
                let _ = writeln!(md, "- {n}");
            }
        }
        if !self.targets.is_empty() {
            let judged = self.scale == Scale::Large;
            if !judged {
                md.push_str(
                    "\nThe targets are set for the large scale (1M findings); at this scale they \
                     are shown, not judged.\n",
                );
            }
            md.push_str("\n| Target | Measured | Met |\n|---|---|---|\n");
            for t in &self.targets {
                let met = match t.met {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None if judged => "not measured",
                    None => "not judged at this scale",
                };
                let _ = writeln!(md, "| {} | {} | {met} |", t.what, t.measured);
            }
        }
        md
    }
}

/// The note for a count that differs from the data's: `who` read `got` `what` where the
/// data holds `expected`; `None` when they agree.
pub fn count_mismatch(who: &str, what: &str, got: u64, expected: u64) -> Option<String> {
    (got != expected).then(|| format!("{who}: {got} {what}, but the data holds {expected}."))
}

/// Load averages as "0.52 0.40 0.33", or "unknown".
fn load(l: Option<[f64; 3]>) -> String {
    l.map(|[a, b, c]| format!("{a:.2} {b:.2} {c:.2}"))
        .unwrap_or_else(|| "unknown".into())
}

/// The 1, 5 and 15 minute load averages of this machine (`/proc/loadavg`).
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// A number with as many decimals as its size deserves.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        "–".into()
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Megabytes (10⁶ bytes) in a mebibyte (2²⁰ bytes): peaks are read in KiB and shown in
/// MiB, some targets are set in MB.
const MB_PER_MIB: f64 = 1.048576;

/// The CSV export's memory target as this run checks it.
const CSV_RSS_TARGET: &str =
    "CSV export peak RSS under 200 MiB (one export size; flatness across sizes not measured)";

/// The median of a measure whose scenario starts with `scenario`.
fn median(rows: &[Row], scenario: &str, measure: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.scenario.starts_with(scenario) && r.measure == measure)
        .map(|r| r.summary.median)
}

/// The targets (set for the large scale on a 2-core machine) against this run;
/// judged only when `judged` (a large run): a thousand findings synced in 0.06 s say
/// nothing about "1M findings under 60 s".
pub fn targets(rows: &[Row], judged: bool) -> Vec<Target> {
    let full = median(rows, "1.", "wall time");
    let raw = median(rows, "2.", "wall time");
    let rss = median(rows, "1.", "peak RSS of the syncing process");
    let python = median(rows, "7a.", "wall time");
    let share = median(rows, "3.", "share of the full sync's time");
    let csv = median(rows, "5. Export to CSV", "wall time");
    let csv_rss = median(rows, "5. Export to CSV", "peak RSS");
    let import_speed: Vec<f64> = rows
        .iter()
        .filter(|r| r.scenario.starts_with("4.") && r.measure == "throughput")
        .map(|r| r.summary.median)
        .collect();
    let import_rss: Vec<f64> = rows
        .iter()
        .filter(|r| r.scenario.starts_with("4.") && r.measure == "peak RSS")
        .map(|r| r.summary.median)
        .collect();
    // faraday parses the smallest report, whose import row comes first.
    let faraday = median(rows, "7b.", "wall time");
    let first_import = median(rows, "4.", "wall time");
    let first_dry_run = median(rows, "4b.", "wall time");
    let mut t = Vec::new();
    let mut add =
        |what: &str, value: Option<f64>, show: &dyn Fn(f64) -> String, ok: &dyn Fn(f64) -> bool| {
            t.push(Target {
                what: what.into(),
                measured: value.map(show).unwrap_or_else(|| "–".into()),
                met: value.filter(|_| judged).map(ok),
            });
        };
    add(
        "Full sync of 1M findings under 60 s",
        full,
        &|v| format!("{} s", num(v)),
        &|v| v < 60.0,
    );
    add(
        "Full sync within 1.5× the raw bound",
        full.zip(raw).map(|(f, r)| f / r),
        &|v| format!("{v:.2}×"),
        &|v| v <= 1.5,
    );
    // The peaks are measured in MiB, these two targets are set in MB: compared in MB.
    add(
        "Sync peak RSS under 200 MB",
        rss,
        &|v| format!("{} MiB ({} MB)", num(v), num(v * MB_PER_MIB)),
        &|v| v * MB_PER_MIB < 200.0,
    );
    add(
        "At least 10× faster than the Python peer",
        python.zip(full).map(|(p, f)| p / f),
        &|v| format!("{v:.1}×"),
        &|v| v >= 10.0,
    );
    add(
        "Delta sync (1 % changed) under 5 % of the full sync's time",
        share,
        &|v| format!("{v:.1} %"),
        &|v| v < 5.0,
    );
    add(
        "XML import at least 150 MB/s",
        import_speed.iter().copied().reduce(f64::min),
        &|v| format!("{} MB/s (slowest size)", num(v)),
        &|v| v >= 150.0,
    );
    add(
        "XML import peak RSS under 100 MB whatever the size",
        import_rss.iter().copied().reduce(f64::max),
        &|v| format!("{} MiB ({} MB; largest)", num(v), num(v * MB_PER_MIB)),
        &|v| v * MB_PER_MIB < 100.0,
    );
    add(
        "XML import at least 20× faster than faraday-plugins",
        faraday.zip(first_import).map(|(f, i)| f / i),
        &|v| format!("{v:.1}×"),
        &|v| v >= 20.0,
    );
    add(
        "— the same, parser to parser (`import --dry-run`: read and map, nothing stored)",
        faraday.zip(first_dry_run).map(|(f, d)| f / d),
        &|v| format!("{v:.1}×"),
        &|v| v >= 20.0,
    );
    add(
        "CSV export of 1M findings under 15 s",
        csv,
        &|v| format!("{} s", num(v)),
        &|v| v < 15.0,
    );
    // The issue asks for memory flat whatever the export's size; one size is measured,
    // so what is checked is the peak itself.
    add(
        CSV_RSS_TARGET,
        csv_rss,
        &|v| format!("{} MiB", num(v)),
        &|v| v < 200.0,
    );
    t
}

/// CPU model, cores, memory and OS of this machine, in one line.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| format!("{:.0} GiB RAM", kb / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!(
        "{cpu}, {cores} cores, {mem}, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scenario: &str, measure: &str, value: f64) -> Row {
        Row {
            scenario: scenario.into(),
            measure: measure.into(),
            unit: "MiB".into(),
            summary: Summary::of(vec![value]),
            cpu: None,
        }
    }

    fn verdict(targets: &[Target], what: &str) -> Option<bool> {
        targets
            .iter()
            .find(|t| t.what.starts_with(what))
            .and_then(|t| t.met)
    }

    #[test]
    fn a_count_that_differs_from_the_data_s_is_a_note_under_the_table() {
        assert_eq!(count_mismatch("x", "issues", 1000, 1000), None);
        let note = count_mismatch("The Python sync 1", "issues stored", 741, 1000);
        assert_eq!(
            note.as_deref(),
            Some("The Python sync 1: 741 issues stored, but the data holds 1000.")
        );
        let report = Report {
            scale: Scale::Small,
            findings: 1000,
            started: "now".into(),
            incomplete: None,
            scenarios: vec!["peers".into()],
            scenarios_described: "only peers".into(),
            machine: "m".into(),
            load_start: Some([0.5, 0.25, 0.125]),
            load_end: None,
            settings: "s".into(),
            peers: None,
            rows: vec![],
            notes: note.into_iter().collect(),
            targets: vec![],
        };
        let md = report.markdown();
        assert!(
            md.contains(
                "Load average (1, 5, 15 min): 0.50 0.25 0.12 at the start, unknown at the end."
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "Notes:\n\n- The Python sync 1: 741 issues stored, but the data holds 1000.\n"
            ),
            "{md}"
        );
    }

    #[test]
    fn mib_peaks_are_judged_against_mb_targets_in_mb() {
        // 195 MiB is 204.5 MB: over a 200 MB target, though under 200 as a MiB figure.
        let rows = [
            row(
                "1. Full ASoC sync",
                "peak RSS of the syncing process",
                195.0,
            ),
            row("4. XML import, 100 MB report", "peak RSS", 96.0),
            row("5. Export to CSV", "peak RSS", 195.0),
        ];
        let t = targets(&rows, true);
        assert_eq!(verdict(&t, "Sync peak RSS under 200 MB"), Some(false));
        assert_eq!(verdict(&t, "XML import peak RSS under 100 MB"), Some(false));
        assert_eq!(verdict(&t, "CSV export peak RSS under 200 MiB"), Some(true));
        let shown = t
            .iter()
            .find(|t| t.what.starts_with("Sync peak"))
            .map(|t| &t.measured);
        assert_eq!(shown.map(String::as_str), Some("195 MiB (204 MB)"));
        let rows = [row(
            "1. Full ASoC sync",
            "peak RSS of the syncing process",
            190.0,
        )];
        assert_eq!(verdict(&targets(&rows, true), "Sync peak RSS"), Some(true));
    }
}
