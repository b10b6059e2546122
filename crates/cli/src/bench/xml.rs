//! Scenario 4: `import` of generated AppScan XML reports (AppScan Standard layout), and
//! the same reports read and mapped without a store (`import --dry-run`).

use super::Bench;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// Generates one report per size of the scale (kept in the work directory for the
/// faraday-plugins peer), imports each `runs` times into a fresh store, then reads each
/// `runs` times with `import --dry-run`: both passes and the mapping, nothing stored —
/// what an import costs before the store, and what compares with a parser alone.
/// Returns the smallest report.
pub fn import(b: &mut Bench) -> anyhow::Result<Option<Generated>> {
    let mut smallest = None;
    for &mb in b.scale.xml_megabytes() {
        let report = generate(b, mb)?;
        let path = report.path.clone();
        let size_mb = report.bytes as f64 / 1e6;
        let import = Way {
            scenario: "4. XML import",
            label: "import",
            args: &["import"],
        };
        let dry_run = Way {
            scenario: "4b. XML read and map only (import --dry-run)",
            label: "dry run",
            args: &["import", "--dry-run"],
        };
        for way in [import, dry_run] {
            measure(b, &way, &path, size_mb)?;
        }
        smallest.get_or_insert(report);
    }
    Ok(smallest)
}

/// One way of reading a report that the benchmark measures.
struct Way {
    scenario: &'static str,
    /// Names the runs in the progress lines.
    label: &'static str,
    /// The command before the report's path.
    args: &'static [&'static str],
}

/// Runs `way` over the report `runs` times, each in a fresh data directory, and records
/// its wall time, throughput and peak RSS.
fn measure(b: &mut Bench, way: &Way, path: &Path, size_mb: f64) -> anyhow::Result<()> {
    let (mut speed, mut wall, mut rss, mut cpu) = (vec![], vec![], vec![], vec![]);
    for run in 1..=b.runs {
        let dir = b.fresh_dir(&format!(
            "{}-{size_mb:.0}-{run}",
            way.label.replace(' ', "-")
        ))?;
        let mut cmd = b.cli(&dir);
        cmd.args(way.args).arg(path);
        let r = b.child(cmd, &dir.join("out.txt"))?;
        let secs = r.wall.as_secs_f64();
        b.step(&format!(
            "{} of {size_mb:.0} MB {run}/{}: {secs:.1} s, peak RSS {:.0} MiB",
            way.label, b.runs, r.peak_rss_mib
        ));
        speed.push(size_mb / secs.max(1e-6));
        wall.push(secs);
        cpu.push(r.cpu.as_secs_f64());
        rss.push(r.peak_rss_mib);
        std::fs::remove_dir_all(&dir).ok();
    }
    let s = format!("{}, {size_mb:.0} MB report", way.scenario);
    b.record_timed(&s, "wall time", "s", wall, cpu);
    b.record(&s, "throughput", "MB/s", speed);
    b.record(&s, "peak RSS", "MiB", rss);
    Ok(())
}

/// The smallest report of the scale (the one faraday-plugins parses), generated unless
/// it is there already; nothing measured.
pub fn smallest(b: &Bench) -> anyhow::Result<Generated> {
    let mb = b
        .scale
        .xml_megabytes()
        .first()
        .copied()
        .context("the scale has no report size")?;
    generate(b, mb)
}

/// A generated report.
#[derive(Debug, Clone)]
pub struct Generated {
    pub path: PathBuf,
    pub bytes: u64,
    /// The issues it holds.
    pub issues: u64,
}

/// Writes a report of about `mb` MB unless this generator wrote one already.
fn generate(b: &Bench, mb: u64) -> anyhow::Result<Generated> {
    if !report_path(&b.work, mb).exists() {
        b.step(&format!("generating a {mb} MB report"));
    }
    generate_in(&b.work, mb)
}

/// `report-<mb>MB-v<generator version>.xml` in `dir`: a report an older generator wrote
/// has another name and is not reused.
fn report_path(dir: &Path, mb: u64) -> PathBuf {
    let version = xml_report::testgen::GENERATOR_VERSION;
    dir.join(format!("report-{mb}MB-v{version}.xml"))
}

/// The report of about `mb` MB in `dir`, written unless there. It is written under a
/// temporary name and renamed once complete: a run stopped mid-write leaves no report
/// that a later run would take for whole. Reports of other generator versions and
/// unfinished ones of this size are removed (a large scale's are a gigabyte).
fn generate_in(dir: &Path, mb: u64) -> anyhow::Result<Generated> {
    let path = report_path(dir, mb);
    let spec = xml_report::testgen::GenSpec::standard(1);
    let spec = xml_report::testgen::GenSpec::standard(spec.issues_for_bytes(mb * 1_000_000));
    let bytes = match std::fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(_) => {
            remove_stale(dir, mb);
            let mut tmp = path.clone().into_os_string();
            tmp.push(".partial");
            let tmp = PathBuf::from(tmp);
            let bytes = xml_report::testgen::write_report(&tmp, &spec)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, &path).with_context(|| {
                format!("cannot rename {} to {}", tmp.display(), path.display())
            })?;
            bytes
        }
    };
    Ok(Generated {
        path,
        bytes,
        issues: spec.issues,
    })
}

/// Removes the reports of `mb` MB in `dir` that are not this generator's whole one:
/// older versions' (`report-<mb>MB.xml`, `report-<mb>MB-v<n>.xml`) and unfinished ones.
fn remove_stale(dir: &Path, mb: u64) {
    let prefix = format!("report-{mb}MB");
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name
            .strip_prefix(&prefix)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with("-v"));
        if ours && entry.path() != report_path(dir, mb) {
            std::fs::remove_file(entry.path()).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_named_by_generator_and_never_reused_half_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        // An older generator's report, an unfinished one, another size's.
        std::fs::write(d.join("report-1MB.xml"), "old").expect("write");
        let path = report_path(d, 1);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let version = xml_report::testgen::GENERATOR_VERSION;
        assert_eq!(name, Some(format!("report-1MB-v{version}.xml")));
        let unfinished = d.join(format!("report-1MB-v{version}.xml.partial"));
        std::fs::write(&unfinished, "<half").expect("write");
        std::fs::write(d.join("report-10MB.xml"), "other size").expect("write");

        let report = generate_in(d, 1).expect("generated");
        assert_eq!(report.path, path);
        assert!(report.bytes > 500_000 && report.issues > 0, "{report:?}");
        let on_disk = std::fs::metadata(&path).map(|m| m.len()).ok();
        assert_eq!(on_disk, Some(report.bytes));
        assert!(!d.join("report-1MB.xml").exists());
        assert!(!unfinished.exists());
        assert!(d.join("report-10MB.xml").exists());

        // Reused once whole.
        let again = generate_in(d, 1).expect("reused");
        assert_eq!((again.bytes, again.issues), (report.bytes, report.issues));
    }
}
