//! The real binary against AppScan Enterprise and XML reports: `sim --ase` as its own
//! process, `connector add ase` + `check` + `sync`; `import` of real reports (plain and
//! gzip) with `findings --dedupe`; `import --dry-run`; bad files that store nothing; and
//! a generated 200 MB report imported with flat memory.

mod common;

use common::{bin, fails, json, ok as run};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml")
        .join(name);
    assert!(p.is_file(), "fixture {} is missing", p.display());
    p
}

/// `appscan-bridge sim --ase` on a free port; kills it when dropped.
struct AseSim {
    child: Child,
    url: String,
    /// Kept open: the simulator's later lines would fail on a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Drop for AseSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ase_sim(dir: &Path) -> AseSim {
    let mut child = bin(dir)
        .args([
            "sim",
            "--ase",
            "--port",
            "0",
            "--apps",
            "3",
            "--issues-per-app",
            "25",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sim starts");
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    stdout
        .read_line(&mut first)
        .expect("the simulator prints its URL");
    let url = first.trim().rsplit(' ').next().expect("a URL").to_string();
    assert!(
        first.contains("AppScan Enterprise simulator") && url.starts_with("http://127.0.0.1:"),
        "{first}"
    );
    AseSim {
        child,
        url,
        _stdout: stdout,
    }
}

fn count(out: &std::process::Output) -> usize {
    json(out).as_array().map(Vec::len).unwrap_or_default()
}

#[test]
fn ase_connector_against_sim_ase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = ase_sim(dir.path());
    run(bin(dir.path())
        .args([
            "connector",
            "add",
            "ase",
            "--name",
            "onprem",
            "--url",
            &sim.url,
        ])
        .args([
            "--key-id",
            "ase-key-id",
            "--page-size",
            "10",
            "--rate-limit",
            "0",
        ])
        .args(["--locators", "application,url", "--reset-tags", "true"])
        .env("APPSCAN_KEY_SECRET", "ase-key-secret-0123456789"));
    let shown = json(&run(bin(dir.path()).args([
        "connector",
        "show",
        "onprem",
        "--json",
    ])));
    let text = shown.to_string();
    assert!(text.contains("\"reset_tags\":true"), "{text}");
    assert!(
        !text.contains("ase-key-secret"),
        "the secret is never shown"
    );

    let checks = json(&run(bin(dir.path()).args(["check", "onprem", "--json"])));
    assert_eq!(checks["passed"], true, "{checks}");
    let outcomes: Vec<&str> = checks["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| c["outcome"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        outcomes,
        ["passed", "skipped", "passed", "passed", "passed"],
        "{checks}"
    );

    let report = json(&run(bin(dir.path()).args(["sync", "onprem", "--json"])));
    assert_eq!(report["run"]["state"], "Processed", "{report}");
    assert_eq!(report["run"]["counters"]["fetched"], 3 + 75, "{report}");
    let findings = run(bin(dir.path()).args(["findings", "--connector", "onprem", "--json"]));
    assert_eq!(count(&findings), 75);
    let second = json(&run(bin(dir.path()).args(["sync", "onprem", "--json"])));
    assert_eq!(second["run"]["state"], "Processed");
    assert_eq!(second["run"]["mode"], "full", "every ASE run is full");
    assert_eq!(second["run"]["counters"]["closed"], 0);
}

#[test]
fn import_reports_then_dedupe() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = json(&run(bin(dir.path())
        .args(["import"])
        .arg(fixture("dast-many_findings.xml"))
        .arg("--json")));
    assert_eq!(out["run"]["state"], "Processed", "{out}");
    assert_eq!(out["run"]["connector"], "xml");
    // A finding's page shows its description, solution and details (it showed none).
    let page =
        String::from_utf8_lossy(&run(bin(dir.path()).args(["finding", "1"])).stdout).to_string();
    for title in ["Description:", "Solution:", "Detection:"] {
        assert!(page.contains(title), "{title}\n{page}");
    }

    // The same report, gzip-compressed, into a second xml connector: every weakness is
    // then seen by two sources.
    let added = run(bin(dir.path()).args(["connector", "add", "xml", "--name", "reports-gz"]));
    let said = String::from_utf8_lossy(&added.stdout);
    assert!(
        said.contains("Next: appscan-bridge import FILE --connector reports-gz"),
        "an xml connector is fed by import, not sync: {said}"
    );
    // `check` has no server to reach for it, and says what to do instead.
    let out = bin(dir.path())
        .args(["check", "reports-gz"])
        .output()
        .expect("check");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("there is no server to check") && err.contains("--dry-run"),
        "{err}"
    );
    let raw = std::fs::read(fixture("dast-many_findings.xml")).expect("read");
    let gz = gzip_stored(&raw);
    let gz_path = dir.path().join("report.xml.gz");
    std::fs::File::create(&gz_path)
        .and_then(|mut f| f.write_all(&gz))
        .expect("write");
    let out = json(&run(bin(dir.path()).args(["import"]).arg(&gz_path).args([
        "--connector",
        "reports-gz",
        "--json",
    ])));
    assert_eq!(out["run"]["state"], "Processed", "{out}");
    assert_eq!(
        count(&run(bin(dir.path()).args(["findings", "--json"]))),
        120
    );

    let groups = json(&run(
        bin(dir.path()).args(["findings", "--dedupe", "--json"])
    ));
    let groups = groups.as_array().expect("groups");
    assert!(!groups.is_empty() && groups.len() <= 60, "{}", groups.len());
    let total: u64 = groups
        .iter()
        .map(|g| g["findings"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(total, 120, "every finding is in one group");
    assert!(
        groups
            .iter()
            .all(|g| g["sources"] == serde_json::json!(["reports-gz", "xml"]))
    );
    let table =
        String::from_utf8_lossy(&run(bin(dir.path()).args(["findings", "--dedupe"])).stdout)
            .into_owned();
    assert!(table.contains("reports-gz, xml"), "{table}");

    // A truncated file: a clear error with its line and column, nothing stored.
    let text = std::fs::read_to_string(fixture("sast-many_issues.xml")).expect("read");
    let cut = dir.path().join("cut.xml");
    std::fs::write(&cut, &text[..text.len() / 2]).expect("write");
    let err = fails(bin(dir.path()).arg("import").arg(&cut));
    assert!(err.contains("cut.xml") && err.contains("line "), "{err}");
    assert!(err.contains("nothing from"), "{err}");
    // Not an AppScan report at all.
    let other = dir.path().join("other.xml");
    std::fs::write(&other, "<?xml version=\"1.0\"?>\n<NessusClientData_v2/>\n").expect("write");
    let err = fails(bin(dir.path()).arg("import").arg(&other));
    assert!(err.contains("NessusClientData_v2"), "{err}");
    assert_eq!(
        count(&run(bin(dir.path()).args(["findings", "--json"]))),
        120
    );
    // An import into a connector of another kind is refused.
    let err = fails(
        bin(dir.path())
            .arg("import")
            .arg(fixture("sast-one_issue.xml"))
            .args(["--connector", "nope"]),
    );
    assert!(err.contains("'nope' does not exist"), "{err}");
}

/// A report exported from AppScan on Cloud goes to KDI as AppScanCloud's, as the same
/// issues synced from ASoC do (it was AppScanStandard's, whichever product wrote it); an
/// AppScan Standard report stays AppScanStandard's.
#[test]
fn kdi_names_the_product_that_wrote_a_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (report, app) in [
        ("dast-many_findings.xml", "cloud-export"),
        ("dast-issue_10074.xml", "standard"),
    ] {
        run(bin(dir.path())
            .args(["import", "--app", app])
            .arg(fixture(report)));
    }
    // Without tags (`skip_tags`) too: it was told by a tag.
    run(bin(dir.path()).args([
        "connector",
        "add",
        "xml",
        "--name",
        "untagged",
        "--skip-tags",
        "true",
    ]));
    run(bin(dir.path())
        .args([
            "import",
            "--connector",
            "untagged",
            "--app",
            "cloud-untagged",
        ])
        .arg(fixture("dast-many_findings.xml")));
    let types = |filter: &str| -> Vec<String> {
        let out = dir.path().join(filter.replace([':', '"'], ""));
        run(bin(dir.path())
            .args(["export", "--format", "kdi", "--filter", filter, "--out"])
            .arg(&out));
        let mut types: Vec<String> = std::fs::read_dir(&out)
            .expect("kdi files")
            .flat_map(|e| {
                let text = std::fs::read_to_string(e.expect("entry").path()).expect("read");
                let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
                doc["vuln_defs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| d["scanner_type"].as_str().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        types.sort();
        types.dedup();
        types
    };
    assert_eq!(types("app:\"cloud-export\""), ["AppScanCloud"]);
    assert_eq!(types("app:\"cloud-untagged\""), ["AppScanCloud"]);
    assert_eq!(types("app:standard"), ["AppScanStandard"]);
}

/// A dry run where there is no store (a new or mistyped --data-dir) previews the
/// report against nothing and says so, and creates nothing: it made a store and a master
/// key, then reported "0 stored finding(s) would be closed" of the store it had just made.
#[test]
fn a_dry_run_where_there_is_no_store_creates_nothing_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("fresh");
    let report = fixture("dast-many_findings.xml");
    let out = run(bin(&d).args(["import", "--dry-run"]).arg(&report));
    let text = String::from_utf8_lossy(&out.stdout);
    let said = format!(
        "there is no store at {}: nothing to compare with",
        d.join("store.sqlite3").display()
    );
    assert!(text.contains(&said), "{text}");
    assert!(text.contains("would store 60 findings"), "{text}");
    assert!(!text.contains("would be closed"), "{text}");
    let out = json(&run(bin(&d)
        .args(["import", "--dry-run", "--json"])
        .arg(&report)));
    assert_eq!(out["store_exists"], false, "{out}");
    assert_eq!(out["dry_run"]["findings"], 60, "{out}");
    // A named connector lives in a store.
    let err = fails(
        bin(&d)
            .args(["import", "--dry-run", "--connector", "reports"])
            .arg(&report),
    );
    assert!(err.contains("there is no store at"), "{err}");
    assert!(!d.exists(), "the dry runs created {}", d.display());
}

#[test]
fn a_dry_run_reads_and_maps_a_report_and_stores_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = json(&run(bin(d)
        .args(["import", "--dry-run", "--json"])
        .arg(fixture("dast-many_findings.xml"))));
    let dry = &out["dry_run"];
    assert_eq!(dry["findings"], 60, "{out}");
    assert_eq!(dry["assets"], 1, "{out}");
    assert_eq!(dry["failed"], 0, "{out}");
    assert_eq!(dry["outcome"], "Processed", "{out}");
    // Every warning counted; a repeated one listed once, with its count.
    let listed = dry["issues"].as_array().expect("issues");
    assert!(
        dry["warnings"].as_u64() >= Some(listed.len() as u64),
        "{out}"
    );
    assert!(listed.iter().all(|i| i["level"] == "warning"), "{out}");
    let text = String::from_utf8_lossy(
        &run(bin(d)
            .args(["import", "--dry-run"])
            .arg(fixture("dast-many_findings.xml")))
        .stdout,
    )
    .into_owned();
    assert!(
        text.contains("would store 60 findings") && text.contains("nothing was stored"),
        "{text}"
    );
    assert!(text.contains("the import would end Processed"), "{text}");
    // No connector was created and nothing stored: not even a store.
    let err = fails(bin(d).args(["connector", "list", "--json"]));
    assert!(err.contains("there is no store at"), "{err}");

    // A report without issues is its application's latest run: the import would end
    // Processed and exit 0, and so does the dry run (it exited 1 when such a run aborted).
    let out = run(bin(d)
        .args(["import", "--dry-run"])
        .arg(fixture("sast-no_issues.xml")));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("would end Processed"), "{text}");

    // A bad file fails as the import would, with where.
    let text = std::fs::read_to_string(fixture("sast-many_issues.xml")).expect("read");
    let cut = d.join("cut.xml");
    std::fs::write(&cut, &text[..text.len() / 2]).expect("write");
    let err = fails(bin(d).args(["import", "--dry-run"]).arg(&cut));
    assert!(err.contains("cut.xml") && err.contains("line "), "{err}");

    // A connector whose map cannot read the report: the dry run says the import would
    // fail past the threshold, and exits 1.
    run(bin(d).args(["map", "clone", "default", "strict"]));
    run(bin(d).args(["map", "set", "strict", "findingName=NoSuchField"]));
    run(bin(d).args([
        "connector",
        "add",
        "xml",
        "--name",
        "strict",
        "--map",
        "strict",
    ]));
    let out = bin(d)
        .args(["import", "--dry-run", "--json", "--connector", "strict"])
        .arg(fixture("dast-many_findings.xml"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let dry = json(&out);
    assert_eq!(dry["dry_run"]["outcome"], "Errored", "{dry}");
    assert_eq!(dry["dry_run"]["failed"], 60, "{dry}");
    assert_eq!(count(&run(bin(d).args(["findings", "--json"]))), 0);

    // After a real import the dry run uses the connector's settings and leaves its
    // findings alone, and compares the report with them: the same report again changes
    // nothing; another report about the same application would add its issue and close
    // the sixty.
    run(bin(d)
        .arg("import")
        .arg(fixture("dast-many_findings.xml"))
        .args(["--app", "shop"]));
    let changes = |file: &str| {
        let out = json(&run(bin(d)
            .args(["import", "--dry-run", "--json", "--app", "shop"])
            .arg(fixture(file))));
        out["dry_run"]["changes"].clone()
    };
    assert_eq!(
        changes("dast-many_findings.xml"),
        serde_json::json!({"inserted": 0, "updated": 0, "unchanged": 60, "closed": 0})
    );
    assert_eq!(
        changes("sast-one_issue.xml"),
        serde_json::json!({"inserted": 1, "updated": 0, "unchanged": 0, "closed": 60})
    );
    let text = String::from_utf8_lossy(
        &run(bin(d)
            .args(["import", "--dry-run", "--app", "shop"])
            .arg(fixture("sast-one_issue.xml")))
        .stdout,
    )
    .into_owned();
    assert!(
        text.contains("1 new, 0 changed, 0 unchanged; 60 stored finding(s) would be closed"),
        "{text}"
    );
    assert_eq!(count(&run(bin(d).args(["findings", "--json"]))), 60);
    // The import itself agrees with its dry run.
    let out = json(&run(bin(d)
        .args(["import", "--json", "--app", "shop"])
        .arg(fixture("sast-one_issue.xml"))));
    assert_eq!(out["run"]["counters"]["closed"], 60, "{out}");
    assert_eq!(out["run"]["counters"]["inserted"], 1, "{out}");
}

/// `sast-one_issue.xml` with its one issue written twice, the second time with
/// `change` applied to it, as `dir/name`.
fn report_with_a_repeated_issue(
    dir: &Path,
    name: &str,
    change: impl Fn(&str) -> String,
) -> PathBuf {
    let xml = std::fs::read_to_string(fixture("sast-one_issue.xml")).expect("fixture");
    let open = xml.find("<issue-group").expect("an issue group");
    let body_from = open + xml[open..].find('>').expect("tag end") + 1;
    let body_to = xml.find("</issue-group>").expect("group end");
    let issue = xml[body_from..body_to].trim();
    let twice = format!(
        "{}<issue-group total=\"2\">\n{issue}\n{}\n{}",
        &xml[..open],
        change(issue),
        &xml[body_to..]
    );
    let path = dir.join(name);
    std::fs::write(&path, twice).expect("write report");
    path
}

#[test]
fn a_dry_run_counts_a_repeated_issue_as_the_import_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let same = report_with_a_repeated_issue(d, "same.xml", str::to_string);
    let changes = |file: &Path| {
        json(&run(bin(d)
            .args(["import", "--dry-run", "--json"])
            .arg(file)))["dry_run"]["changes"]
            .clone()
    };
    // The second sight of an id is what the writer compares with the first: unchanged
    // when the same, changed when not; never a second new finding.
    assert_eq!(
        changes(&same),
        serde_json::json!({"inserted": 1, "updated": 0, "unchanged": 1, "closed": 0})
    );
    let other = report_with_a_repeated_issue(d, "other.xml", |issue| {
        issue.replace("<priority>High</priority>", "<priority>Low</priority>")
    });
    assert!(
        std::fs::read(&same).expect("same") != std::fs::read(&other).expect("other"),
        "the second sight differs"
    );
    assert_eq!(
        changes(&other),
        serde_json::json!({"inserted": 1, "updated": 1, "unchanged": 0, "closed": 0})
    );
    let out = json(&run(bin(d).args(["import", "--json"]).arg(&same)));
    let counters = &out["run"]["counters"];
    // The import's counters hold the application (inserted) too.
    assert_eq!(
        (&counters["inserted"], &counters["unchanged"]),
        (&serde_json::json!(2), &serde_json::json!(1)),
        "{out}"
    );
}

/// A gzip member with stored (uncompressed) deflate blocks, so the test needs no
/// compression crate: the reader must accept any valid gzip file.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = data.chunks(65_535).peekable();
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The peak resident memory (VmHWM) of a running child, in KiB, polled until it exits.
fn peak_rss_kib(mut cmd: Command) -> (std::process::ExitStatus, u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_file) {
            let hwm = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
            peak = peak.max(hwm.unwrap_or(0));
        }
        if let Some(status) = child.try_wait().expect("wait") {
            return (status, peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_200_mb_report_imports_with_flat_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("large.xml");
    let spec = xml_report::testgen::GenSpec::asoc(1);
    let spec = xml_report::testgen::GenSpec::asoc(spec.issues_for_bytes(200 * 1024 * 1024));
    let bytes = xml_report::testgen::write_report(&path, &spec).expect("report written");
    assert!(bytes >= 190 * 1024 * 1024, "{bytes} bytes");
    let mut cmd = bin(dir.path());
    cmd.args(["--quiet", "import"]).arg(&path);
    let (status, peak_kib) = peak_rss_kib(cmd);
    assert!(status.success(), "the import succeeds");
    std::fs::remove_file(&path).ok();
    let findings = run(bin(dir.path()).args(["findings", "--limit", "1", "--json"]));
    assert_eq!(count(&findings), 1);
    eprintln!("peak RSS of the import: {} MiB", peak_kib / 1024);
    // Loose: the benchmark (`appscan-bridge bench`) measures it exactly.
    assert!(
        peak_kib > 0 && peak_kib < 100 * 1024,
        "peak RSS {peak_kib} KiB"
    );
}
