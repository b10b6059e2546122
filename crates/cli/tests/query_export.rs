//! `findings`/`assets` with `--filter`, `--sort`, `--columns`; `filter-help`; `export` in
//! every format; `kev import` and `rescore` — the real binary against the simulator.

mod common;

use common::{SECRET, bin, fails, json, ok};
use serde_json::Value;
use std::path::Path;

/// A data directory with a connector synced from a simulator of 4 apps × ~40 issues.
async fn synced() -> (sim::RunningSim, tempfile::TempDir) {
    let sim = common::sim(4, 40, 7).await;
    let dir = tempfile::tempdir().expect("tempdir");
    ok(bin(dir.path())
        .args(["connector", "add", "asoc", "--name", "cloud", "--url"])
        .arg(sim.base_url())
        .args(["--key-id", "sim-key-id", "--rate-limit", "0"])
        .env("APPSCAN_KEY_SECRET", SECRET));
    ok(bin(dir.path()).args(["sync", "cloud", "--json"]));
    (sim, dir)
}

fn rows(dir: &Path, args: &[&str]) -> Vec<Value> {
    json(&ok(bin(dir).args(args)))
        .as_array()
        .cloned()
        .expect("a JSON array")
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_sorts_and_columns_on_findings_and_assets() {
    let (_sim, dir) = synced().await;
    let d = dir.path();
    let every = rows(d, &["findings", "--json"]);
    assert!(every.len() > 50);

    let high = rows(
        d,
        &[
            "findings",
            "--json",
            "--filter",
            "severity>=high and status:open",
        ],
    );
    let want = every
        .iter()
        .filter(|f| {
            matches!(f["severity"].as_str(), Some("High" | "Critical"))
                && matches!(f["status"].as_str(), Some("NEW" | "ACTIVE" | "REOPENED"))
        })
        .count();
    assert_eq!(high.len(), want);
    assert!(want > 0);

    // --sort risk: descending; --limit; --columns keeps only the named fields.
    let top = rows(
        d,
        &[
            "findings",
            "--json",
            "--sort",
            "risk",
            "--limit",
            "10",
            "--columns",
            "id,risk,sev",
        ],
    );
    assert_eq!(top.len(), 10);
    let risks: Vec<u64> = top
        .iter()
        .map(|r| r["risk"].as_u64().expect("risk"))
        .collect();
    assert!(risks.windows(2).all(|w| w[0] >= w[1]), "{risks:?}");
    let max = every.iter().filter_map(|f| f["risk"].as_u64()).max();
    assert_eq!(risks.first().copied(), max);
    let keys: Vec<&String> = top[0].as_object().expect("object").keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        top[0].get("severity").is_some(),
        "aliases resolve to field names"
    );
    // Keys come in the order the columns were asked for, not sorted.
    let ordered = ok(bin(d).args([
        "findings",
        "--json",
        "--limit",
        "1",
        "--columns",
        "severity,name,id",
    ]));
    let text = String::from_utf8_lossy(&ordered.stdout);
    let at = |key: &str| text.find(&format!("\"{key}\"")).expect(key);
    assert!(
        at("severity") < at("name") && at("name") < at("id"),
        "{text}"
    );
    // A time under --columns is the one `--json` writes, to the microsecond: pasted back
    // into a filter it finds its finding (cut to the second, it found none).
    let first = rows(
        d,
        &[
            "findings",
            "--json",
            "--limit",
            "1",
            "--columns",
            "id,lastSeen",
        ],
    );
    let whole = rows(d, &["findings", "--json", "--limit", "1"]);
    assert_eq!(first[0]["lastSeen"], whole[0]["last_seen"]);
    let at = first[0]["lastSeen"].as_str().expect("time");
    let again = rows(
        d,
        &[
            "findings",
            "--json",
            "--filter",
            &format!("lastSeen:{at} and id:{}", first[0]["id"]),
        ],
    );
    assert_eq!(again.len(), 1, "{at}");
    // A descending key written with a leading minus.
    let asc = rows(
        d,
        &["findings", "--json", "--sort", "-risk", "--limit", "1"],
    );
    assert_eq!(asc[0]["risk"].as_u64(), max);

    // A full page prints the next page's cursor; --after continues where --offset would,
    // and only the listing it was made for.
    let page = |extra: &[&str]| {
        let mut args = vec!["findings", "--json", "--sort", "name", "--limit", "7"];
        args.extend_from_slice(extra);
        rows(d, &args)
    };
    let first = ok(bin(d).args(["findings", "--json", "--sort", "name", "--limit", "7"]));
    let cursor = String::from_utf8_lossy(&first.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("next page: --after "))
        .expect("a cursor under a full page")
        .to_string();
    assert_eq!(page(&["--after", &cursor]), page(&["--offset", "7"]));
    let err = fails(bin(d).args(["findings", "--sort", "risk", "--after", &cursor]));
    assert!(err.contains("sorted by '+name'"), "{err}");
    let err = fails(bin(d).args(["assets", "--after", &cursor]));
    assert!(err.contains("findings only"), "{err}");
    // --dedupe is a findings option too (assets ran, ignoring it, exit 0).
    let err = fails(bin(d).args(["assets", "--dedupe"]));
    assert!(err.contains("--dedupe groups findings only"), "{err}");
    // Groups are listed most severe first: a sort was ignored without a word.
    let err = fails(bin(d).args(["findings", "--dedupe", "--sort", "name"]));
    assert!(err.contains("it takes no --sort"), "{err}");
    // Its rows are groups, not findings: chosen columns were ignored without a word.
    let err = fails(bin(d).args(["findings", "--dedupe", "--columns", "id,name"]));
    assert!(err.contains("it takes no --columns"), "{err}");

    // The table shows the chosen columns as headers.
    let table = ok(bin(d).args(["findings", "--columns", "id,cwe,lastFound", "--limit", "3"]));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("lastFound") && text.contains("cwe"), "{text}");

    // Assets: their own fields.
    let apps = rows(
        d,
        &[
            "assets",
            "--json",
            "--filter",
            "openFindings>=1",
            "--sort",
            "risk",
        ],
    );
    assert!(!apps.is_empty());
    let risks: Vec<u64> = apps
        .iter()
        .map(|r| r["risk"].as_u64().expect("risk"))
        .collect();
    assert!(risks.windows(2).all(|w| w[0] >= w[1]), "{risks:?}");
    let name = apps[0]["name"].as_str().expect("name");
    let prefix: String = name.chars().take(4).collect();
    let by_name = rows(
        d,
        &[
            "assets",
            "--json",
            "--filter",
            &format!("name:\"{prefix}*\""),
        ],
    );
    assert!(by_name.iter().any(|a| a["name"] == name));

    // Every key `--json` writes names a column (they are snake_case, the fields
    // camelCase: `--columns asset_name` was "unknown field").
    for list in ["findings", "assets"] {
        let all = rows(d, &[list, "--json", "--limit", "1"]);
        let keys: Vec<&str> = all[0]
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let chosen = rows(
            d,
            &[list, "--json", "--limit", "1", "--columns", &keys.join(",")],
        );
        assert_eq!(
            chosen[0].as_object().map(|o| o.len()),
            Some(keys.len()),
            "{list}: {keys:?} -> {:?}",
            chosen[0]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn filter_mistakes_point_at_their_column() {
    let (_sim, dir) = synced().await;
    let d = dir.path();
    let out = fails(bin(d).args(["findings", "--filter", "severity>=high and colour:red"]));
    assert!(out.contains("column 20"), "{out}");
    assert!(out.contains("unknown field 'colour'"), "{out}");
    // The caret sits under the column, below the echoed filter.
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_end() == "severity>=high and colour:red")
        .expect("the filter is echoed");
    assert_eq!(lines[at + 1].find('^'), Some(19), "{out}");

    let out = fails(bin(d).args(["findings", "--filter", "severity>=hgh"]));
    assert!(
        out.contains("column 11") && out.contains("unknown severity"),
        "{out}"
    );
    let out = fails(bin(d).args(["findings", "--filter", "(cwe:79 or port:80"]));
    assert!(
        out.contains("column 1") && out.contains("unclosed"),
        "{out}"
    );
    let out = fails(bin(d).args(["assets", "--filter", "cwe:79"]));
    assert!(out.contains("unknown field 'cwe' for assets"), "{out}");
    let out = fails(bin(d).args(["findings", "--sort", "risk,colour"]));
    assert!(out.contains("column 6"), "{out}");
    let out = fails(bin(d).args(["findings", "--columns", "id,sevrity"]));
    assert!(out.contains("did you mean 'severity'"), "{out}");
    let out = fails(bin(d).args(["export", "--format", "xml"]));
    assert!(out.contains("unknown format 'xml'"), "{out}");
    let out = fails(bin(d).args(["export", "--format", "csv", "--filter", "cwe>"]));
    assert!(out.contains("column 5"), "{out}");
}

#[test]
fn filter_help_lists_the_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ok(bin(dir.path()).args(["filter-help"]));
    let text = String::from_utf8_lossy(&out.stdout);
    for word in [
        "severity",
        "lastFound",
        "openFindings",
        "kev",
        "risk",
        "Syntax",
    ] {
        assert!(text.contains(word), "{word} missing:\n{text}");
    }
    let j = json(&ok(bin(dir.path()).args([
        "filter-help",
        "findings",
        "--json",
    ])));
    let names: Vec<&str> = j["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for n in ["severity", "status", "app", "cwe", "lastFound", "risk"] {
        assert!(names.contains(&n), "{n}");
    }
    assert!(j.get("assets").is_none());
}

fn all_text(path: &Path) -> String {
    if path.is_dir() {
        let mut out = String::new();
        for e in std::fs::read_dir(path).expect("dir").flatten() {
            out.push_str(&std::fs::read_to_string(e.path()).expect("read"));
        }
        out
    } else {
        std::fs::read_to_string(path).expect("read")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_write_every_format_without_secrets() {
    let (_sim, dir) = synced().await;
    let d = dir.path();
    let total = rows(d, &["findings", "--json"]).len();
    let out = d.join("exports");
    for (format, file) in [
        ("csv", "f.csv"),
        ("jsonl", "f.jsonl"),
        ("ocsf", "f.ocsf.jsonl"),
        ("sarif", "f.sarif"),
        ("kdi", "kdi"),
    ] {
        let path = out.join(file);
        let mut cmd = bin(d);
        cmd.args(["export", "--format", format]);
        if format == "kdi" {
            cmd.args(["--max-file-size", "20KB"]);
        }
        let r = ok(cmd.arg("--out").arg(&path));
        let said = String::from_utf8_lossy(&r.stderr);
        assert!(
            said.contains(&format!("Exported {total} findings")),
            "{said}"
        );
        let text = all_text(&path);
        assert!(
            !text.contains(SECRET),
            "{format} export carries the key secret"
        );
        assert!(
            !text.contains("sim-key-id"),
            "{format} export carries the key id"
        );
        match format {
            "csv" => {
                assert!(text.starts_with("id,connector,app,"));
            }
            "jsonl" | "ocsf" => assert_eq!(text.lines().count(), total),
            "sarif" => {
                let v: Value = serde_json::from_str(&text).expect("SARIF JSON");
                assert_eq!(v["version"], "2.1.0");
                // A run per application.
                let results: usize = v["runs"]
                    .as_array()
                    .expect("runs")
                    .iter()
                    .map(|r| r["results"].as_array().map_or(0, Vec::len))
                    .sum();
                assert_eq!(results, total);
            }
            _ => {
                let files: Vec<_> = std::fs::read_dir(&path).expect("dir").flatten().collect();
                assert!(files.len() > 4, "split at 20 KB: {} files", files.len());
                for f in files {
                    assert!(f.metadata().expect("meta").len() <= 20_000);
                    let name = f.file_name().to_string_lossy().to_string();
                    assert!(
                        name.starts_with("cloud-") && name.ends_with(".json"),
                        "{name}"
                    );
                }
            }
        }
    }
    // Exported again into the same directory in fewer, larger parts: the earlier parts it
    // did not replace would go up with the directory, and the export says so.
    let kdi = out.join("kdi");
    let r = ok(bin(d)
        .args(["export", "--format", "kdi", "--out"])
        .arg(&kdi));
    let said = String::from_utf8_lossy(&r.stderr);
    assert!(
        said.contains(".json file(s) this export did not write"),
        "{said}"
    );
    // A limit below one finding's size cannot be kept, and the export says so.
    let tiny = out.join("kdi-tiny");
    let r = ok(bin(d)
        .args([
            "export",
            "--format",
            "kdi",
            "--max-file-size",
            "100B",
            "--out",
        ])
        .arg(&tiny));
    let said = String::from_utf8_lossy(&r.stderr);
    assert!(said.contains("larger than --max-file-size"), "{said}");
    let fresh = out.join("kdi-fresh");
    let r = ok(bin(d)
        .args(["export", "--format", "kdi", "--out"])
        .arg(&fresh));
    assert!(!String::from_utf8_lossy(&r.stderr).contains("warning"));
    // A filter selects what is exported; standard output when there is no --out.
    let crit = rows(d, &["findings", "--json", "--filter", "severity:critical"]).len();
    let r = ok(bin(d).args(["export", "-f", "jsonl", "--filter", "severity:critical"]));
    assert_eq!(String::from_utf8_lossy(&r.stdout).lines().count(), crit);
    // KDI writes a file per application: a filter that matches nothing writes none, and
    // says so (it used to claim it wrote to standard output).
    let none = out.join("kdi-none");
    let r = ok(bin(d)
        .args([
            "export",
            "-f",
            "kdi",
            "--filter",
            "name:\"no such finding\"",
            "--out",
        ])
        .arg(&none));
    let said = String::from_utf8_lossy(&r.stderr);
    assert!(
        said.contains("nothing matched, no file was written"),
        "{said}"
    );
    assert!(std::fs::read_dir(&none).map_or(true, |mut d| d.next().is_none()));
}

#[tokio::test(flavor = "multi_thread")]
async fn kev_import_rescores_and_kev_filters() {
    let (_sim, dir) = synced().await;
    let d = dir.path();
    let with_cve = rows(
        d,
        &["findings", "--json", "--filter", "cve:* and status:open"],
    );
    let Some(target) = with_cve.first() else {
        panic!("the simulator gives some findings a CVE");
    };
    let cve = target["cve"].as_str().expect("cve");
    let before = target["risk"].as_u64().expect("risk");
    let list = d.join("kev.txt");
    std::fs::write(
        &list,
        format!("# known exploited\n{}\n", cve.to_lowercase()),
    )
    .expect("write");
    let r = json(&ok(bin(d).args(["kev", "import", "--json"]).arg(&list)));
    assert_eq!(r["total"], 1);
    assert!(r["matching_findings"].as_u64() >= Some(1));
    let kev = rows(d, &["findings", "--json", "--filter", "kev:true"]);
    assert!(kev.iter().any(|f| f["id"] == target["id"]));
    assert!(kev.iter().all(|f| f["kev"] == true), "listings say kev too");
    assert_eq!(target["kev"], false, "before the import");
    let cells = rows(
        d,
        &[
            "findings",
            "--json",
            "--filter",
            "kev:true",
            "--columns",
            "id,kev",
        ],
    );
    assert!(cells.iter().all(|f| f["kev"] == true), "{cells:?}");
    let after = kev
        .iter()
        .find(|f| f["id"] == target["id"])
        .and_then(|f| f["risk"].as_u64())
        .expect("risk");
    assert!(
        after > before,
        "known exploitation raises the score: {before} → {after}"
    );
    let r = json(&ok(bin(d).args(["rescore", "--json"])));
    assert!(r["findings"].as_u64() > Some(0));
    std::fs::write(&list, "not-a-cve\n").expect("write");
    let out = fails(bin(d).args(["kev", "import"]).arg(&list));
    assert!(out.contains("line 1") && out.contains("not-a-cve"), "{out}");
}

/// A report's CVE text as written (`cve-…`, several in one attribute, garbage) is stored
/// normalized: KDI's `cve_identifiers` matches the documented `CVE-…` list, a finding is
/// known exploited when any of its CVEs is listed, and OCSF names one CVE per
/// vulnerability. The text was stored verbatim: KDI files failed the KDI schema, the
/// two-CVE finding never matched the KEV list, and OCSF wrote the list as one uid.
#[test]
fn report_cves_are_normalized_for_kev_and_the_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/appscan-xml/sast-one_issue.xml");
    let report = std::fs::read_to_string(&fixture).expect("fixture");
    assert!(
        report.contains("cve=\"\""),
        "the fixture's item has an empty cve"
    );
    let xml = d.join("cves.xml");
    std::fs::write(
        &xml,
        report.replacen(
            "cve=\"\"",
            "cve=\"cve-2021-44228, CVE-2022-22965;not-a-cve\"",
            1,
        ),
    )
    .expect("write");
    let imported = common::text(&ok(bin(d).arg("import").arg(&xml)));
    assert!(
        imported.contains("not-a-cve"),
        "the dropped token is warned: {imported}"
    );
    let list = d.join("kev.txt");
    std::fs::write(&list, "CVE-2022-22965\n").expect("write");
    let r = json(&ok(bin(d).args(["kev", "import", "--json"]).arg(&list)));
    assert_eq!(r["matching_findings"], 1, "{r}");
    let kev = rows(d, &["findings", "--json", "--filter", "kev:true"]);
    assert_eq!(kev.len(), 1, "{kev:?}");
    assert_eq!(kev[0]["cve"], "CVE-2021-44228,CVE-2022-22965");

    let out = d.join("kdi");
    ok(bin(d)
        .args(["export", "-q", "-f", "kdi", "--out"])
        .arg(&out));
    let mut defs = 0;
    for file in std::fs::read_dir(&out).expect("kdi dir") {
        let doc: Value =
            serde_json::from_slice(&std::fs::read(file.expect("entry").path()).expect("read"))
                .expect("JSON");
        for def in doc["vuln_defs"].as_array().expect("vuln_defs") {
            if let Some(ids) = def.get("cve_identifiers") {
                defs += 1;
                assert_eq!(ids, "CVE-2021-44228,CVE-2022-22965", "{def}");
            }
        }
    }
    assert_eq!(defs, 1);

    let ocsf = ok(bin(d).args(["export", "-q", "-f", "ocsf"]));
    let event: Value = serde_json::from_slice(&ocsf.stdout).expect("one OCSF event");
    let vuln = &event["vulnerabilities"][0];
    assert_eq!(vuln["cve"]["uid"], "CVE-2021-44228", "{vuln}");
    assert_eq!(
        event["unmapped"]["cves"],
        serde_json::json!(["CVE-2021-44228", "CVE-2022-22965"])
    );
}

/// A flag of one format given with another is refused, naming the flag and its format:
/// `-f csv --ocsf-class 2007` (OCSF meant) wrote CSV and succeeded.
#[test]
fn a_flag_of_another_format_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(bin(d).arg("import").arg(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/appscan-xml/sast-one_issue.xml"),
    ));
    for (format, flag, owner) in [
        ("csv", &["--kdi-vulns"][..], "kdi"),
        ("csv", &["--ocsf-class", "2007"][..], "ocsf"),
        ("sarif", &["--max-file-size", "10MB"][..], "kdi"),
        ("ocsf", &["--kdi-scores", "0,3,6,8,10"][..], "kdi"),
        ("csv", &["--sarif-max-results", "10"][..], "sarif"),
        ("jsonl", &["--csv-keep-formulas"][..], "csv"),
        ("kdi", &["--ocsf-class", "2002"][..], "ocsf"),
    ] {
        let out = fails(bin(d).args(["export", "--format", format]).args(flag));
        assert!(
            out.contains(&format!(
                "{} applies to --format {owner} only, not {format}",
                flag[0]
            )),
            "{format} {flag:?}: {out}"
        );
    }
    // Each flag with its own format is taken.
    ok(bin(d).args(["export", "-q", "-f", "ocsf", "--ocsf-class", "2007"]));
    ok(bin(d).args(["export", "-q", "-f", "csv", "--csv-keep-formulas"]));
    ok(bin(d).args(["export", "-q", "-f", "sarif", "--sarif-max-results", "10"]));
}
