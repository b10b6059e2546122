//! Scenario 7: what users would run instead, measured in the same run on the same data —
//! a Python sync script with `requests` into SQLite, and the faraday-plugins AppScan XML
//! plugin. Installed into a virtual environment of the benchmark's own.

use super::Bench;
use super::xml::Generated;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;

const ASOC_SYNC: &str = include_str!("../../../../bench/peers/asoc_sync.py");
const FARADAY_PARSE: &str = include_str!("../../../../bench/peers/faraday_parse.py");
/// What the venv gets; faraday-plugins pinned so that runs compare.
const PACKAGES: &[&str] = &["requests", "faraday-plugins==1.31.0"];

/// The Python peer's full sync, `runs` times (its figures line up with scenario 1).
pub fn python_sync(b: &mut Bench, python: &Path) -> anyhow::Result<()> {
    let script = write_script(b, "asoc_sync.py", ASOC_SYNC)?;
    let (mut wall, mut rss, mut rate, mut stored) = (vec![], vec![], vec![], vec![]);
    let mut cpu = vec![];
    for run in 1..=b.peer_runs {
        // The data every full sync of scenario 1 read, not what its deltas left.
        let expected = b.reset_data();
        let db = b.fresh_dir(&format!("python-{run}"))?.join("peer.sqlite3");
        let mut cmd = Command::new(python);
        super::env::isolate(&mut cmd);
        cmd.arg(&script)
            .arg(b.sim_url())
            .arg(b.key_id())
            .arg(&db)
            .arg(b.page_size.to_string())
            .env("APPSCAN_KEY_SECRET", b.key_secret());
        let r = b.child(cmd, &b.work.join("python.out"))?;
        let issues = serde_json::from_str::<serde_json::Value>(r.stdout.trim())
            .ok()
            .and_then(|v| v.get("issues").and_then(|n| n.as_u64()))
            .context("the Python sync printed no issue count")?;
        let secs = r.wall.as_secs_f64();
        b.step(&format!(
            "Python sync {run}/{}: {issues} issues in {secs:.1} s, peak RSS {:.0} MiB",
            b.peer_runs, r.peak_rss_mib
        ));
        b.check_count(
            &format!("The Python sync {run}"),
            "issues stored",
            issues,
            expected,
        );
        wall.push(secs);
        cpu.push(r.cpu.as_secs_f64());
        rss.push(r.peak_rss_mib);
        rate.push(issues as f64 / secs.max(1e-6));
        stored.push(issues as f64);
    }
    let s = "7a. Peer: Python + requests sync into SQLite";
    b.record_timed(s, "wall time", "s", wall, cpu);
    b.record(s, "findings/s", "", rate);
    b.record(s, "peak RSS", "MiB", rss);
    b.record(s, "findings stored (its printed count)", "", stored);
    Ok(())
}

/// faraday-plugins parsing `report` (the smallest generated report), `runs` times.
pub fn faraday_parse(b: &mut Bench, python: &Path, report: &Generated) -> anyhow::Result<()> {
    let script = write_script(b, "faraday_parse.py", FARADAY_PARSE)?;
    let mb = report.bytes as f64 / 1e6;
    let (mut wall, mut rss, mut speed, mut found) = (vec![], vec![], vec![], vec![]);
    let mut cpu = vec![];
    for run in 1..=b.peer_runs {
        let mut cmd = Command::new(python);
        super::env::isolate(&mut cmd);
        cmd.arg(&script).arg(&report.path);
        let r = b.child(cmd, &b.work.join("faraday.out"))?;
        let vulns = serde_json::from_str::<serde_json::Value>(r.stdout.trim())
            .ok()
            .and_then(|v| v.get("vulnerabilities").and_then(|n| n.as_u64()))
            .context("faraday-plugins printed no vulnerability count")?;
        b.check_count(
            &format!("faraday-plugins {run}"),
            "vulnerabilities",
            vulns,
            report.issues,
        );
        found.push(vulns as f64);
        cpu.push(r.cpu.as_secs_f64());
        let secs = r.wall.as_secs_f64();
        b.step(&format!(
            "faraday-plugins {run}/{}: {mb:.0} MB in {secs:.1} s, peak RSS {:.0} MiB",
            b.peer_runs, r.peak_rss_mib
        ));
        wall.push(secs);
        rss.push(r.peak_rss_mib);
        speed.push(mb / secs.max(1e-6));
    }
    let s = format!("7b. Peer: faraday-plugins AppScan parser, {mb:.0} MB report");
    b.record_timed(&s, "wall time", "s", wall, cpu);
    b.record(&s, "throughput", "MB/s", speed);
    b.record(&s, "peak RSS", "MiB", rss);
    b.record(&s, "vulnerabilities (its printed count)", "", found);
    Ok(())
}

/// The venv's Python, creating the venv and installing the peers on first use, and
/// again when the venv has no working pip (an interrupted creation, a Python upgraded
/// under it). Returns the interpreter and the installed versions.
pub fn venv(b: &Bench) -> anyhow::Result<(PathBuf, String)> {
    let dir = b.out.join(".venv");
    let python = dir.join("bin").join("python");
    let shown = dir.display();
    if !pip_works(&python, &b.work.join("pip-check.out"), b) {
        if dir.exists() {
            b.step(&format!("{shown} has no working pip: creating it again"));
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {shown}"))?;
        }
        b.step(&format!(
            "installing the peers (requests, faraday-plugins) into the virtual environment {shown}"
        ));
        let mut venv = Command::new("python3");
        venv.args(["-m", "venv"]).arg(&dir);
        run(b, venv).with_context(|| format!("cannot create the virtual environment {shown}"))?;
    }
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .args(PACKAGES);
    run(b, pip).with_context(|| format!("cannot install the peers into {shown}"))?;
    let mut versions = Command::new(&python);
    versions.args([
        "-c",
        "import importlib.metadata as m, sys; print(f'Python {sys.version.split()[0]}, requests {m.version(\"requests\")}, faraday-plugins {m.version(\"faraday-plugins\")}')",
    ]);
    let versions =
        run(b, versions).with_context(|| format!("cannot read the peers' versions in {shown}"))?;
    Ok((python, versions.trim().to_string()))
}

/// `python -m pip --version` succeeds: the venv can install the peers.
fn pip_works(python: &Path, scratch: &Path, b: &Bench) -> bool {
    if !python.exists() {
        return false;
    }
    let mut check = Command::new(python);
    check.args(["-m", "pip", "--version"]);
    b.child(check, scratch).is_ok()
}

/// Runs an installation step as the benchmark's child (a Ctrl-C reaches it too);
/// returns what it printed.
fn run(b: &Bench, cmd: Command) -> anyhow::Result<String> {
    Ok(b.child(cmd, &b.work.join("venv.out"))?.stdout)
}

fn write_script(b: &Bench, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = b.work.join(name);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
