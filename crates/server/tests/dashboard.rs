//! The dashboard in real headless Chromium (Debian's `chromium`, installed by
//! `scripts/setup-test-deps.sh`): pages load with no console messages (errors, CSP
//! violations, uncaught exceptions all show up there), the findings table shows the
//! seeded data, the filter narrows it, and screenshots are written to
//! `<target>/test-output/`. Over the DevTools protocol ([`Devtools`]) it measures that no
//! page is wider than a 375 px phone or a 1280 px desktop, long unbroken scanned text
//! included.

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
    // The chart's dates are shown in the reader's zone like every other time (they were
    // UTC, unmarked, under a footer naming Tokyo); without the script they say "UTC".
    assert!(html.contains(" UTC</text>"), "{html}");
    assert!(
        page.contains("data-datetime=") && !page.contains(" UTC</text>"),
        "{page}"
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
    // The filter box is marked wrong and names the message, which is announced.
    assert!(
        bad.contains("aria-invalid=\"true\" aria-describedby=\"filter-error\"")
            && bad.contains("id=\"filter-error\" role=\"alert\""),
        "{bad}"
    );
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

/// A run of a second connector, `hostile`, written straight into the store: exactly one
/// page of findings (`PAGE_SIZE`), one of them with a 600-character name, a location
/// with a bidirectional override and a description with a 300-character URL, under an
/// application with a 400-character name, ending Errored with a reason that holds a
/// 300-character URL. Returns that finding's id.
fn seed_hostile(r: &common::Rig) -> i64 {
    use chrono::Utc;
    use store::{AssetRecord, Batch, ConnectorState, FindingRecord, RunCounters, RunEnd};
    r.runner
        .add_connector(runner::AddConnector {
            name: "hostile".into(),
            kind: "asoc".into(),
            url: Some("http://127.0.0.1:1".into()),
            key_id: Some("kid".into()),
            secret: Some(secrecy::SecretString::from("s".to_string())),
            settings: common::settings(None),
        })
        .expect("connector added");
    let store = r.runner.store.as_ref();
    let c = store
        .connector("hostile")
        .expect("store")
        .expect("connector");
    let app = model::Asset {
        external_id: "app".into(),
        name: Some("A".repeat(400)),
        url: Some("https://app.test".into()),
        description: None,
        business_unit: None,
        risk_rating: None,
        last_updated: None,
        tags: vec![],
    };
    let finding = |i: usize| {
        let (name, location) = if i == 0 {
            (
                "N".repeat(600),
                "https://x.test/\u{202E}gnp.exe".to_string(),
            )
        } else {
            (format!("Issue {i}"), format!("https://x.test/{i}"))
        };
        let f = model::Finding {
            external_id: format!("h{i}"),
            asset_external_id: "app".into(),
            name,
            severity: model::Severity::Medium,
            source_severity: "Medium".into(),
            status: model::Status::New,
            source_status: None,
            cve: None,
            cvss: None,
            cwe: None,
            first_found: Some(Utc::now()),
            last_found: None,
            last_updated: None,
            port: None,
            protocol: None,
            issue_type: None,
            location: Some(location),
            element: None,
            detection: None,
            description: (i == 0).then(|| {
                format!(
                    "For Chrome, see:\nhttps://developers.example/{}",
                    "u".repeat(300)
                )
            }),
            solution: None,
            tags: vec![],
        };
        FindingRecord::new(f, serde_json::json!({ "i": i }), format!("fp-h{i}"))
    };
    let batch = Batch {
        assets: vec![AssetRecord::new(app, serde_json::json!({}))],
        findings: (0..50).map(finding).collect(),
        issues: vec![],
    };
    let run = store
        .begin_run(
            c.id,
            store::RunMode::Full,
            "test",
            chrono::Duration::minutes(5),
        )
        .expect("begin");
    let reason = format!("fetching https://x.test/{} failed", "p".repeat(300));
    store
        .finish_run(
            &run,
            &batch,
            &RunEnd {
                state: store::RunState::Errored,
                connector_state: ConnectorState::Errored,
                reason: Some(reason),
                counters: RunCounters::default(),
                cursor: None,
                scope: None,
            },
        )
        .expect("finish");
    let q = store::ListQuery {
        connector: Some("hostile".into()),
        ..Default::default()
    };
    store
        .findings(&q)
        .expect("findings")
        .iter()
        .find(|f| f.finding.external_id == "h0")
        .map(|f| f.id)
        .expect("the long finding")
}

/// Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
/// messages ended by NUL, read on fd 3 and written on fd 4), for what `--dump-dom` cannot
/// say: how wide a page lays out in a viewport of a given width. (An iframe of the page
/// is refused by its `frame-ancestors 'none'`.) Blocking: run it off the async threads.
struct Devtools {
    child: std::process::Child,
    /// Dropped with the driver; until then a watchdog kills Chromium after two minutes,
    /// so that a browser that stops answering fails the test instead of hanging it.
    watchdog: Option<std::sync::mpsc::Sender<()>>,
    to_browser: std::io::PipeWriter,
    from_browser: std::io::BufReader<std::io::PipeReader>,
    next_id: u64,
    session: Option<String>,
}

impl Devtools {
    fn launch(profile: &Path) -> Devtools {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let (browser_reads, to_browser) = std::io::pipe().expect("pipe");
        let (from_browser, browser_writes) = std::io::pipe().expect("pipe");
        let (r, w) = (browser_reads.as_raw_fd(), browser_writes.as_raw_fd());
        let mut cmd = std::process::Command::new(chromium_bin());
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        // SAFETY: dup2 is async-signal-safe; it only moves the child's pipe ends to the
        // descriptors Chromium reads and writes.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(r, 3) < 0 || libc::dup2(w, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium starts");
        drop((browser_reads, browser_writes));
        let (watchdog, stopped) = std::sync::mpsc::channel::<()>();
        let pid = child.id() as libc::pid_t;
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stopped.recv_timeout(std::time::Duration::from_secs(120))
            {
                // SAFETY: kill(2) of our own child, which is not yet waited for (the
                // driver's drop, which waits for it, disconnects this channel first).
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        });
        let mut dt = Devtools {
            child,
            watchdog: Some(watchdog),
            to_browser,
            from_browser: std::io::BufReader::new(from_browser),
            next_id: 0,
            session: None,
        };
        let targets = dt.call("Target.getTargets", serde_json::json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .map(|t| t["targetId"].clone())
            .expect("a page");
        let attached = dt.call(
            "Target.attachToTarget",
            serde_json::json!({"targetId": page, "flatten": true}),
        );
        dt.session = attached["sessionId"].as_str().map(str::to_string);
        dt
    }

    /// Sends one command (to the page once attached) and returns its result, skipping
    /// the events that arrive meanwhile.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        use std::io::{BufRead, Write};
        self.next_id += 1;
        let mut msg = serde_json::json!({"id": self.next_id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = s.clone().into();
        }
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(0);
        self.to_browser.write_all(&bytes).expect("send to chromium");
        loop {
            let mut buf = Vec::new();
            let n = self
                .from_browser
                .read_until(0, &mut buf)
                .expect("read from chromium");
            assert!(n > 0, "chromium closed the pipe during {method}");
            buf.pop();
            let reply: serde_json::Value =
                serde_json::from_slice(&buf).expect("JSON from chromium");
            if reply["id"] == self.next_id {
                assert!(reply.get("error").is_none(), "{method}: {reply}");
                return reply["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    fn evaluate(&mut self, expression: &str) -> serde_json::Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }

    /// Loads `url` in a viewport `width` px wide and measures it once its script ran: the
    /// document's width and its viewport's, and the height of the chart's smallest axis
    /// label.
    fn measure(&mut self, url: &str, width: u32) -> serde_json::Value {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.call("Page.navigate", serde_json::json!({"url": url}));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let ready = "document.readyState === 'complete' && location.href !== 'about:blank' \
                     && document.body.dataset.ready === '1'";
        while self.evaluate(ready) != serde_json::Value::Bool(true) {
            assert!(std::time::Instant::now() < deadline, "{url} did not load");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.evaluate(&format!(
            "({{ url: {url:?}, width: {width}, \
               scroll: document.documentElement.scrollWidth, \
               client: document.documentElement.clientWidth, \
               axis: Math.min(...[...document.querySelectorAll('svg.chart text.axis')] \
                 .map((t) => t.getBoundingClientRect().height)), \
               narrow_overflow: Math.max(0, ...[...document.querySelectorAll('.table-scroll')] \
                 .filter((b) => b.querySelector('thead tr').children.length <= 3) \
                 .map((b) => b.scrollWidth - b.clientWidth)) }})"
        ))
    }
}

impl Drop for Devtools {
    fn drop(&mut self) {
        drop(self.watchdog.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrow_screens_long_text_and_paging() {
    let mut r = rig(2, 5, None, None, Arc::new(server::SystemClock)).await;
    let token = r.token("ci");
    r.sync(&token).await;
    r.handle.mutate(0.3, 5);
    r.sync(&token).await;
    let long = seed_hostile(&r);
    let profile = tempfile::tempdir().expect("profile dir");

    // Exactly one page: no Next; past its end, a way back.
    let page = dom(profile.path(), &r.url("/?connector=hostile")).await;
    assert_eq!(finding_rows(&page).len(), 50);
    assert!(!page.contains("rel=\"next\""), "{page}");
    assert!(page.contains("rows 1–50 of 50"), "{page}");
    // The whole store has more than a page: Next (the store is asked for a row more).
    let all = r.http.get(r.url("/")).send().await.expect("GET /");
    let all = all.text().await.expect("html");
    assert!(
        all.contains("rel=\"next\" href=\"/?offset=50#findings\""),
        "{all}"
    );
    let past = dom(profile.path(), &r.url("/?connector=hostile&offset=50")).await;
    assert!(past.contains("past the end"), "{past}");
    assert!(
        past.contains("rel=\"prev\" href=\"/?connector=hostile#findings\""),
        "{past}"
    );

    // A table cell shows the first 200 characters of a long name; its page, all of it.
    let cut = format!("{}…", "N".repeat(199));
    assert!(
        page.contains(&cut) && !page.contains(&"N".repeat(200)),
        "{page}"
    );
    let detail = dom(profile.path(), &r.url(&format!("/findings/{long}"))).await;
    assert!(detail.contains(&"N".repeat(600)), "{detail}");

    // The filter box holds what was searched, so that refining it searches the same
    // thing (a bidirectional control shown escaped in it matched nothing the next time).
    let searched = r
        .http
        .get(r.url("/?connector=hostile&filter=location:*%E2%80%AE*"))
        .send()
        .await
        .expect("GET filtered");
    let searched = searched.text().await.expect("html");
    assert!(
        searched.contains("value=\"location:*\u{202E}*\"") && searched.contains(">rows 1–1<"),
        "{searched}"
    );
    // Parameters the page does not know (a shared link's `utm_source`) are ignored; a
    // wrong sort (an old bookmark) is named and Clear leads out of it.
    let shared = r.http.get(r.url("/?utm_source=mail&fbclid=x")).send().await;
    assert_eq!(shared.expect("GET shared").status(), 200);
    let sorted = r
        .http
        .get(r.url("/?connector=hostile&sort=bogus"))
        .send()
        .await;
    let sorted = sorted.expect("GET sorted").text().await.expect("html");
    assert!(
        sorted.contains("invalid sort")
            && sorted.contains("class=\"clear\" href=\"/?connector=hostile#findings\""),
        "{sorted}"
    );

    // The override in the location is shown, not obeyed, in the table and on its page.
    for html in [&page, &detail] {
        assert!(
            html.contains("https://x.test/&lt;U+202E&gt;gnp.exe"),
            "{html}"
        );
        assert!(!html.contains('\u{202E}'));
    }

    // No page scrolls sideways, on a phone or with long unbroken text on a desktop, and
    // the chart's labels stay readable on the phone.
    let finding = format!("/findings/{long}");
    let mut pages = Vec::new();
    for path in [
        "/",
        "/?connector=hostile",
        finding.as_str(),
        "/connectors/hostile",
        "/connectors/sim",
    ] {
        pages.push((path, 375));
        pages.push((path, 1280));
    }
    let urls: Vec<(String, u32)> = pages.iter().map(|(p, w)| (r.url(p), *w)).collect();
    let dir = profile.path().join("devtools");
    let measured = tokio::task::spawn_blocking(move || {
        let mut chromium = Devtools::launch(&dir);
        urls.iter()
            .map(|(url, width)| chromium.measure(url, *width))
            .collect::<Vec<_>>()
    })
    .await
    .expect("measured");
    let too_wide: Vec<_> = measured
        .iter()
        .filter(|m| m["scroll"].as_f64().is_none() || m["scroll"].as_f64() > m["client"].as_f64())
        .collect();
    assert!(
        too_wide.is_empty(),
        "wider than their screens: {too_wide:#?}"
    );
    // A table of three short columns (a finding's history) shows them all on a phone.
    let hidden_columns: Vec<_> = measured
        .iter()
        .filter(|m| m["narrow_overflow"].as_f64() != Some(0.0))
        .collect();
    assert!(
        hidden_columns.is_empty(),
        "short tables that scroll: {hidden_columns:#?}"
    );
    let unreadable: Vec<_> = measured
        .iter()
        .filter(|m| m["axis"].as_f64().is_some_and(|h| h < 9.0))
        .collect();
    assert!(
        unreadable.is_empty(),
        "chart labels too small: {unreadable:#?}"
    );
    r.shutdown().await;
}
