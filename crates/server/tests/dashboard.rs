//! The dashboard in real headless Chromium (Debian's `chromium`, installed by
//! `scripts/setup-test-deps.sh`): pages load with no console messages (errors, CSP
//! violations, uncaught exceptions all show up there), the findings table shows the
//! seeded data, the filter narrows it, and screenshots are written to
//! `<target>/test-output/`.

mod common;

use common::rig;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::process::Command;

/// Where screenshots go: `<target dir>/test-output`.
fn output_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-output");
    std::fs::create_dir_all(&dir).expect("test output dir");
    dir
}

fn chromium_bin() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Runs headless Chromium on `url` with `extra` arguments; returns (stdout, console lines).
async fn chromium(profile: &Path, url: &str, extra: &[&str]) -> (String, Vec<String>) {
    let mut cmd = Command::new(chromium_bin());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    // A reader far from UTC: the page shows their zone and says so.
    .env("TZ", "Asia/Tokyo")
    .args(extra)
    .arg(url)
    .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(90), cmd.output())
        .await
        .expect("chromium finished within 90 s")
        .unwrap_or_else(|e| {
            panic!(
                "cannot run '{}' ({e}); install it with scripts/setup-test-deps.sh",
                chromium_bin()
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "chromium failed on {url}: {stderr}");
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&out.stdout).to_string(), console)
}

/// The DOM of a page after its scripts ran, asserting the console stayed silent.
async fn dom(profile: &Path, url: &str) -> String {
    let (dom, console) = chromium(profile, url, &["--dump-dom"]).await;
    assert!(
        console.is_empty(),
        "console messages on {url}:\n{}",
        console.join("\n")
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page script did not run on {url}:\n{dom}"
    );
    dom
}

/// Whether a page's footer names the zone its times are shown in (the test's reader is in
/// Tokyo): it said "times in UTC" while the script showed local times.
fn says_its_zone(dom: &str) -> bool {
    dom.contains("times in Asia/Tokyo")
}

/// The findings table's rows: (id, severity) pairs.
fn finding_rows(dom: &str) -> Vec<(i64, String)> {
    let Some(start) = dom.find("id=\"findings-table\"") else {
        return Vec::new();
    };
    let table = &dom[start
        ..dom[start..]
            .find("</table>")
            .map_or(dom.len(), |e| start + e)];
    table
        .split("<tr")
        .skip(2) // the text before the first row, and the header row
        .filter_map(|row| {
            let id = row
                .split("href=\"/findings/")
                .nth(1)?
                .split('"')
                .next()?
                .parse()
                .ok()?;
            let sev = row
                .split("class=\"badge sev-")
                .nth(1)?
                .split('>')
                .nth(1)?
                .split('<')
                .next()?
                .to_string();
            Some((id, sev))
        })
        .collect()
}

async fn screenshot(profile: &Path, url: &str, name: &str, height: u32) -> PathBuf {
    let path = output_dir().join(name);
    let _ = std::fs::remove_file(&path);
    let (_, console) = chromium(
        profile,
        url,
        &[
            &format!("--screenshot={}", path.display()),
            &format!("--window-size=1280,{height}"),
        ],
    )
    .await;
    assert!(
        console.is_empty(),
        "console messages on {url}:\n{}",
        console.join("\n")
    );
    let bytes = std::fs::read(&path).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG"), "not a PNG");
    assert!(bytes.len() > 20_000, "screenshot suspiciously small");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_headless_chromium() {
    let mut r = rig(4, 10, Some("6h"), None, Arc::new(server::SystemClock)).await;
    let token = r.token("ci");
    r.sync(&token).await;
    r.handle.mutate(0.3, 5);
    r.sync(&token).await;
    let profile = tempfile::tempdir().expect("profile dir");

    // Every stylesheet and script the page names is served.
    let home = r.http.get(r.url("/")).send().await.expect("GET /");
    assert_eq!(home.status().as_u16(), 200);
    let html = home.text().await.expect("html");
    for asset in ["/assets/app.css", "/assets/app.js", "/assets/favicon.svg"] {
        assert!(html.contains(asset), "the page does not use {asset}");
        let res = r.http.get(r.url(asset)).send().await.expect("asset");
        assert_eq!(res.status().as_u16(), 200, "{asset}");
    }

    // The overview shows the seeded data.
    let (_, all) = r.get("/api/findings?limit=5000").await;
    let all = all["items"].as_array().expect("items").clone();
    assert!(
        !all.is_empty() && all.len() <= 50,
        "fits one page: {}",
        all.len()
    );
    let page = dom(profile.path(), &r.url("/")).await;
    let rows = finding_rows(&page);
    assert_eq!(rows.len(), all.len(), "every stored finding is listed");
    for f in &all {
        assert!(page.contains(&format!("href=\"/findings/{}\"", f["id"])));
    }
    assert!(page.contains("id=\"connectors\"") && page.contains(">sim</a>"));
    assert!(page.contains("id=\"status-counts\""));
    assert!(
        page.contains("<svg class=\"chart\""),
        "the open-findings chart"
    );
    assert_eq!(
        page.matches("<circle class=\"dot\"").count(),
        2,
        "one point per run"
    );

    // The filter narrows the table to what the API returns for the same filter.
    let filter = "severity>=high";
    let (_, want) = r
        .get("/api/findings?limit=5000&filter=severity%3E%3Dhigh")
        .await;
    let want: Vec<i64> = want["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["id"].as_i64())
        .collect();
    assert!(
        !want.is_empty() && want.len() < all.len(),
        "the seed gives a narrowing filter"
    );
    let url = r.url("/?filter=severity%3E%3Dhigh");
    let filtered = dom(profile.path(), &url).await;
    let rows = finding_rows(&filtered);
    let mut got: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    got.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got, want_sorted);
    assert!(
        rows.iter().all(|(_, s)| s == "High" || s == "Critical"),
        "{rows:?}"
    );
    assert!(
        filtered.contains(&format!("value=\"{}\"", filter.replace('>', "&gt;")))
            || filtered.contains(&format!("value=\"{filter}\""))
    );

    // The export link carries the filter, and downloads what the table shows.
    let link = "/api/export?format=csv&amp;filter=severity%3E%3Dhigh";
    assert!(filtered.contains(link), "export link with the filter");
    let csv = r
        .http
        .get(r.url(&link.replace("&amp;", "&")))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    let rows = ::csv::Reader::from_reader(csv.as_bytes()).records().count();
    assert_eq!(rows, want.len(), "{csv}");

    // A filter with a mistake says where, and the page still loads cleanly.
    assert!(
        says_its_zone(&dom(profile.path(), &r.url("/")).await),
        "the footer names the reader's zone"
    );
    // The caret sits under the mistake in a preformatted line, not in a dump of the
    // API's JSON detail.
    let bad = dom(profile.path(), &r.url("/?filter=severity%3E%3Dhgh")).await;
    assert!(bad.contains("id=\"filter-error\""), "{bad}");
    assert!(
        bad.contains("<pre class=\"caret\">severity&gt;=hgh\n          ^ unknown severity"),
        "{bad}"
    );
    assert!(!bad.contains("\"caret\":"), "no JSON on the page: {bad}");
    assert!(finding_rows(&bad).is_empty());
    // So does a connector that does not exist, instead of an empty list.
    let nope = dom(profile.path(), &r.url("/?connector=nope")).await;
    assert!(
        nope.contains("id=\"filter-error\"") && nope.contains("connector 'nope' does not exist"),
        "{nope}"
    );

    // A finding's page shows its history; the connector's page its runs.
    let changed = all
        .iter()
        .filter_map(|f| f["id"].as_i64())
        .find(|id| {
            r.runner
                .store
                .finding_history(*id)
                .is_ok_and(|h| h.len() > 1)
        })
        .expect("a finding whose status changed");
    let detail = dom(profile.path(), &r.url(&format!("/findings/{changed}"))).await;
    assert!(detail.contains("id=\"history\""));
    assert!(detail.matches("→").count() >= 1, "a status change is shown");
    let conn = dom(profile.path(), &r.url("/connectors/sim")).await;
    assert!(conn.contains("id=\"runs\"") && conn.contains("••••"));
    assert!(!conn.contains(&r.key_secret));
    let missing = dom(profile.path(), &r.url("/findings/99999999")).await;
    assert!(missing.contains("does not exist"));

    // Screenshots, to look at.
    let shot = screenshot(profile.path(), &r.url("/"), "dashboard.png", 2200).await;
    screenshot(profile.path(), &url, "dashboard-filtered.png", 1400).await;
    screenshot(
        profile.path(),
        &r.url(&format!("/findings/{changed}")),
        "finding.png",
        1300,
    )
    .await;
    eprintln!(
        "screenshots in {}",
        shot.parent().unwrap_or(&shot).display()
    );
    r.shutdown().await;
}
