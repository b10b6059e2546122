//! Scenario 5: `export` of every stored finding to KDI and CSV.

use super::Bench;
use std::path::Path;

/// Exports the store in `data_dir` `runs` times per format.
pub fn export(b: &mut Bench, data_dir: &Path) -> anyhow::Result<()> {
    for format in ["kdi", "csv"] {
        let (mut wall, mut rss, mut size, mut cpu) = (vec![], vec![], vec![], vec![]);
        for run in 1..=b.runs {
            let out = b.work.join(format!("export-{format}-{run}"));
            let target = if format == "kdi" {
                out.clone()
            } else {
                out.with_extension("csv")
            };
            let mut cmd = b.cli(data_dir);
            cmd.args(["export", "--format", format, "--out"])
                .arg(&target);
            let r = b.child(cmd, &b.work.join("export.out"))?;
            let bytes = disk_bytes(&target);
            b.step(&format!(
                "{format} export {run}/{}: {:.1} s, {:.0} MB written, peak RSS {:.0} MiB",
                b.runs,
                r.wall.as_secs_f64(),
                bytes as f64 / 1e6,
                r.peak_rss_mib
            ));
            wall.push(r.wall.as_secs_f64());
            cpu.push(r.cpu.as_secs_f64());
            rss.push(r.peak_rss_mib);
            size.push(bytes as f64 / 1e6);
            if target.is_dir() {
                std::fs::remove_dir_all(&target).ok();
            } else {
                std::fs::remove_file(&target).ok();
            }
        }
        let s = format!("5. Export to {}", format.to_uppercase());
        b.record_timed(&s, "wall time", "s", wall, cpu);
        b.record(&s, "peak RSS", "MiB", rss);
        b.record(&s, "output size", "MB", size);
    }
    Ok(())
}

/// Bytes of a file, or of the files in a directory.
fn disk_bytes(p: &Path) -> u64 {
    if p.is_dir() {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    } else {
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
    }
}
