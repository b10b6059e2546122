//! Scenario 6: `findings --filter` over the synced store, as a user runs it (process
//! start, store open, query, first 100 rows printed as JSON).

use super::Bench;
use std::path::Path;

/// A selective filter (one application's high and critical findings) and a broad one
/// (every open finding of low severity or more, ranked by risk).
pub fn query(b: &mut Bench, data_dir: &Path) -> anyhow::Result<()> {
    let app = b.first_app_name();
    let cases = [
        (
            "selective filter (one app, severity>=high)",
            format!("app:\"{}\" and severity>=high", app.replace('"', "")),
            None,
        ),
        (
            "broad filter (severity>=low and not status:fixed, --sort risk)",
            "severity>=low and not status:fixed".to_string(),
            Some("risk"),
        ),
    ];
    for (label, filter, sort) in cases {
        let (mut ms, mut cpu_ms) = (vec![], vec![]);
        for _ in 0..b.runs.max(5) {
            let mut cmd = b.cli(data_dir);
            cmd.args(["findings", "--json", "--limit", "100", "--filter", &filter]);
            if let Some(s) = sort {
                cmd.args(["--sort", s]);
            }
            let r = b.child(cmd, &b.work.join("query.out"))?;
            ms.push(r.wall.as_secs_f64() * 1000.0);
            cpu_ms.push(r.cpu.as_secs_f64() * 1000.0);
        }
        b.step(&format!("query {label}: {:.0} ms", ms[0]));
        b.record_timed("6. Query over the synced findings", label, "ms", ms, cpu_ms);
    }
    Ok(())
}
