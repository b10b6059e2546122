//! Scenario 4: `import` of generated AppScan XML reports (AppScan Standard layout), and
//! the same reports read and mapped without a store (`import --dry-run`).

use super::Bench;
use anyhow::Context;
use std::path::PathBuf;

/// Generates one report per size of the scale (kept in the work directory for the
/// faraday-plugins peer) and imports each `runs` times into a fresh store. Returns the
/// smallest report.
pub fn import(b: &mut Bench) -> anyhow::Result<Option<PathBuf>> {
    let mut smallest = None;
    for &mb in b.scale.xml_megabytes() {
        let path = b.work.join(format!("report-{mb}MB.xml"));
        let bytes = generate(b, &path, mb)?;
        let size_mb = bytes as f64 / 1e6;
        let (mut speed, mut wall, mut rss) = (vec![], vec![], vec![]);
        for run in 1..=b.runs {
            let dir = b.fresh_dir(&format!("import-{mb}-{run}"))?;
            let mut cmd = b.cli(&dir);
            cmd.arg("import").arg(&path);
            let r = b.child(cmd, &dir.join("import.out"))?;
            let secs = r.wall.as_secs_f64();
            b.step(&format!(
                "import of {size_mb:.0} MB {run}/{}: {secs:.1} s, peak RSS {:.0} MiB",
                b.runs, r.peak_rss_mib
            ));
            speed.push(size_mb / secs.max(1e-6));
            wall.push(secs);
            rss.push(r.peak_rss_mib);
            std::fs::remove_dir_all(&dir).ok();
        }
        let s = format!("4. XML import, {size_mb:.0} MB report");
        b.record(&s, "wall time", "s", wall);
        b.record(&s, "throughput", "MB/s", speed);
        b.record(&s, "peak RSS", "MiB", rss);
        dry_runs(b, &path, size_mb)?;
        smallest.get_or_insert(path);
    }
    Ok(smallest)
}

/// `import --dry-run` of the same report: both passes and the mapping, nothing stored —
/// what an import costs before the store, and what compares with a parser alone.
fn dry_runs(b: &mut Bench, path: &std::path::Path, size_mb: f64) -> anyhow::Result<()> {
    let (mut speed, mut wall, mut rss) = (vec![], vec![], vec![]);
    for run in 1..=b.runs {
        let dir = b.fresh_dir(&format!("dry-run-{size_mb:.0}-{run}"))?;
        let mut cmd = b.cli(&dir);
        cmd.args(["import", "--dry-run"]).arg(path);
        let r = b.child(cmd, &dir.join("dry-run.out"))?;
        let secs = r.wall.as_secs_f64();
        b.step(&format!(
            "dry run of {size_mb:.0} MB {run}/{}: {secs:.1} s, peak RSS {:.0} MiB",
            b.runs, r.peak_rss_mib
        ));
        speed.push(size_mb / secs.max(1e-6));
        wall.push(secs);
        rss.push(r.peak_rss_mib);
        std::fs::remove_dir_all(&dir).ok();
    }
    let s = format!("4b. XML read and map only (import --dry-run), {size_mb:.0} MB report");
    b.record(&s, "wall time", "s", wall);
    b.record(&s, "throughput", "MB/s", speed);
    b.record(&s, "peak RSS", "MiB", rss);
    Ok(())
}

/// Writes a report of about `mb` MB unless one is already there; returns its size.
fn generate(b: &Bench, path: &std::path::Path, mb: u64) -> anyhow::Result<u64> {
    if let Ok(m) = std::fs::metadata(path) {
        return Ok(m.len());
    }
    b.step(&format!("generating a {mb} MB report"));
    let spec = xml_report::testgen::GenSpec::standard(1);
    let spec = xml_report::testgen::GenSpec::standard(spec.issues_for_bytes(mb * 1_000_000));
    xml_report::testgen::write_report(path, &spec)
        .with_context(|| format!("cannot write {}", path.display()))
}
