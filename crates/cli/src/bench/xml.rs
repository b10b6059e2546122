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
    let (mut speed, mut wall, mut rss) = (vec![], vec![], vec![]);
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
        rss.push(r.peak_rss_mib);
        std::fs::remove_dir_all(&dir).ok();
    }
    let s = format!("{}, {size_mb:.0} MB report", way.scenario);
    b.record(&s, "wall time", "s", wall);
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

/// Writes a report of about `mb` MB unless one is already there.
fn generate(b: &Bench, mb: u64) -> anyhow::Result<Generated> {
    let path = b.work.join(format!("report-{mb}MB.xml"));
    let spec = xml_report::testgen::GenSpec::standard(1);
    let spec = xml_report::testgen::GenSpec::standard(spec.issues_for_bytes(mb * 1_000_000));
    let bytes = match std::fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(_) => {
            b.step(&format!("generating a {mb} MB report"));
            xml_report::testgen::write_report(&path, &spec)
                .with_context(|| format!("cannot write {}", path.display()))?
        }
    };
    Ok(Generated {
        path,
        bytes,
        issues: spec.issues,
    })
}
