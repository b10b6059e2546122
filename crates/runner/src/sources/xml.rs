//! The AppScan XML report source: one report file, read with the streaming reader in
//! two passes, as one application's full run.
//!
//! Pass 1 validates the whole file (well formed, an AppScan report of a known schema,
//! within the reader's limits) before any record is sent, so a bad file fails the run
//! with the line and column of the problem and stores nothing. Pass 2 streams the issues
//! as pages of ASoC-shaped records (`xml_report::Issue::to_record`), shaped by
//! [`super::records`].
//!
//! A report of up to [`ATOMIC_MAX_BYTES`] is also written as one store transaction, so
//! that even a crash or too many unmappable records leave the store as it was. A larger
//! report is written in committed batches like any other run: in SQLite's WAL one
//! transaction of a gigabyte re-reads its own spilled pages through an ever longer
//! write-ahead log and slows to a crawl. A larger report whose run stops in pass 2 keeps
//! the findings written so far and closes nothing; importing it again converges. Progress
//! is reported in file bytes read (both passes: twice the file size in all). The file
//! is never held in memory: a blocking thread reads it and waits whenever the run is
//! busy writing (the channel holds four pages). In pass 2 a second thread turns the
//! issues into records, so the parsing has the reading thread to itself (a dry run of a
//! 100 MB report: 3.7–4.5 s with one thread, 2.7–3.4 s with two; an import is bound by
//! its writer as much and went no faster).

use super::records::{self, Candidates, Warnings, source_error};
use crate::RunnerError;
use crate::full_run::{FullRunOptions, KnownAssets};
use crate::import::ImportInput;
use crate::settings::Settings;
use crate::source::{Event, Request, Sender, Source, SourceError, SourceStats, channel_stream};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use tokio::runtime::Handle;
use xml_report::{Family, Issue, ReaderOptions, ReportMeta};

/// Records per page sent to the run.
const PAGE: usize = 200;

/// The largest report (file size on disk) stored as one transaction.
pub const ATOMIC_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// One report file as a source.
pub struct XmlSource {
    path: PathBuf,
    app: Option<String>,
    options: FullRunOptions,
    /// What the store holds of the connector's applications (tags, report dates).
    known: KnownAssets,
    allow_older: bool,
    /// Whether the run is one store transaction (small enough a report).
    atomic: bool,
}

impl XmlSource {
    /// The source of connector `name` over the file of `input`.
    pub fn new(
        name: &str,
        settings: &Settings,
        input: Option<&ImportInput>,
    ) -> Result<XmlSource, RunnerError> {
        let input = input.ok_or_else(|| {
            RunnerError::Config(crate::connectors::import_only("xml", name).unwrap_or_default())
        })?;
        // A file that cannot be read fails in pass 1 with its own error.
        let size = std::fs::metadata(&input.path).map_or(0, |m| m.len());
        Ok(XmlSource {
            atomic: size <= ATOMIC_MAX_BYTES,
            path: input.path.clone(),
            app: input.app.clone(),
            options: settings.full_run.clone(),
            known: KnownAssets::default(),
            allow_older: input.allow_older,
        })
    }
}

/// Sends from the blocking reader thread; an error means the run stopped reading.
fn send(rt: &Handle, tx: &Sender, ev: Result<Event, SourceError>) -> Result<(), SourceError> {
    rt.block_on(tx.send(ev))
}

/// The application a report is about, and its asset record. An application named with
/// `--app` keys the asset whatever the connector's locators: the user named it (the
/// locators only order what a report tells of itself). Under `url,application` two
/// reports of one site imported as two applications were one asset, and the second
/// closed the first's findings.
fn asset_record(
    meta: &ReportMeta,
    file: &str,
    app: Option<&str>,
    options: &FullRunOptions,
    known: &KnownAssets,
) -> Result<(String, Value), SourceError> {
    let stored = &known.tags;
    let given = app.filter(|n| !n.trim().is_empty()).map(str::to_string);
    let name = given
        .clone()
        .or_else(|| meta.application_name.clone())
        .filter(|n| !n.trim().is_empty());
    let (origin, host) = meta
        .starting_url
        .as_deref()
        .and_then(records::origin_and_host)
        .unzip();
    let candidates = Candidates {
        application: name.clone(),
        url: meta.starting_url.as_deref().and_then(records::site),
        host,
        file: Some(file.to_string()),
    };
    let picked = match given {
        Some(app) => Some(("application", app)),
        None => candidates.pick(&options.locators),
    };
    let (locator, value) = picked.ok_or_else(|| {
        source_error(format!(
            "{file}: none of the locators {} is known for this report (pass --app NAME or add `file` to the locators)",
            options.locators.join(",")
        ))
    })?;
    let id = format!("{locator}:{value}");
    let mut now = vec!["AppScan".to_string(), meta.family.to_string()];
    if meta.technology.as_str() != "Mixed" {
        now.push(meta.technology.as_str().to_string());
    }
    let tags = records::asset_tags(options, stored, &id, now);
    let record = json!({
        "Id": id,
        "Name": name.clone().unwrap_or_else(|| value.clone()),
        "Url": origin,
        "Description": format!(
            "AppScan XML report ({} {}, {})",
            meta.family,
            meta.export_version,
            meta.technology.as_str()
        ),
        // An undated report (or one dated in a form not read) keeps the date of the last
        // one: it wrote none over it, and an older report was then taken without
        // --allow-older.
        "LastUpdated": meta
            .report_date
            .as_ref()
            .and_then(|d| d.rfc3339())
            .or_else(|| {
                known
                    .report_dates
                    .get(&id)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            }),
        "Tags": tags,
        "ReportFile": file,
        "ScanName": meta.scan_name,
        "Product": meta.product_name,
        "ProductVersion": meta.product_version,
    });
    Ok((id, record))
}

/// The warning for an application known only by the report's file name (a report that
/// names no application and no URL the locators take): the same application's next
/// report, saved under another name, becomes another application and closes nothing.
fn named_by_its_file(asset_id: &str) -> Option<String> {
    let name = asset_id.strip_prefix("file:")?;
    Some(format!(
        "the report names no application and no URL the connector's locators take: its \
         application is its file name '{name}', so a report of it saved under another name \
         will be another application (pass --app NAME to name it)"
    ))
}

/// Why a report's unseen findings must not be closed, when it does not (or may not)
/// hold every issue of its application: ASoC writes how many its application has
/// (`total-issues-in-application`, else the `issue-group`'s `total`) and whether it cut
/// the report at its limit. A report of one scan, a filtered report or a cut one closed
/// every finding of the application it did not list. (AppScan Standard's `total` counts
/// something else: it is not compared.) A report with no `issue-group` at all that
/// declares no count lists nothing and does not say it found nothing (a bare root, a
/// report cut down by hand): it closed every finding of its application.
fn short_of_its_application(meta: &ReportMeta) -> Option<String> {
    if meta.issues_count_limit_reached {
        return Some(format!(
            "the report was cut at AppScan's limit of issues per report ({} issues in it): \
             its findings not in the report are left open",
            meta.issue_count
        ));
    }
    let declared = meta.total_issues_in_application.or(match meta.family {
        Family::AsocExport => meta.issue_group_total,
        Family::Standard => None,
    });
    match declared {
        Some(declared) => (declared > meta.issue_count).then(|| {
            format!(
                "the report holds {} of its application's {declared} issues (a report of one \
                 scan, or a filtered one): its findings not in the report are left open",
                meta.issue_count
            )
        }),
        None => (!meta.has_issue_group).then(|| {
            "the report has no issue-group (and does not say it found no issue): nothing closed"
                .to_string()
        }),
    }
}

/// Refuses a report older than the last one imported for its application (`dates`, by
/// asset id): as a full run it would close what the newer report found and bring back
/// what that one no longer had. Reports without a date are not compared.
fn not_older(
    meta: &ReportMeta,
    file: &str,
    asset_id: &str,
    dates: &HashMap<String, DateTime<Utc>>,
    allow_older: bool,
) -> Result<(), SourceError> {
    let (Some(new), Some(last)) = (
        meta.report_date.as_ref().and_then(|d| d.utc),
        dates.get(asset_id),
    ) else {
        return Ok(());
    };
    if allow_older || new >= *last {
        return Ok(());
    }
    Err(source_error(format!(
        "{file} is dated {}, older than the last report imported for application '{asset_id}' \
         ({}): as a full run it would close what the newer report found and bring back what \
         that one no longer had; nothing was stored (import it with --allow-older if that is \
         what you want)",
        new.format("%Y-%m-%d %H:%M:%S UTC"),
        last.format("%Y-%m-%d %H:%M:%S UTC")
    )))
}

/// Reads the report and sends its events; runs on a blocking thread.
fn produce(
    rt: Handle,
    tx: Sender,
    path: PathBuf,
    app: Option<String>,
    options: FullRunOptions,
    known: KnownAssets,
    allow_older: bool,
) -> Result<(), SourceError> {
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let run_time = Utc::now();
    let bytes = |read: u64, total: u64| Event::Bytes { read, total };
    // Pass 1: validate, collect the tables. Nothing is sent but progress.
    let report = {
        let (rt, tx) = (rt.clone(), &tx);
        xml_report::open(&path, ReaderOptions::default(), |read, total| {
            let _ = send(&rt, tx, Ok(bytes(read, total * 2)));
        })
        .map_err(|e| source_error(format!("{}: {e}", path.display())))?
    };
    let meta = report.meta().clone();
    let total = meta.file_bytes;
    let (asset_id, asset) = asset_record(&meta, &file, app.as_deref(), &options, &known)?;
    not_older(&meta, &file, &asset_id, &known.report_dates, allow_older)?;
    send(&rt, &tx, Ok(Event::AppsTotal(1)))?;
    send(
        &rt,
        &tx,
        Ok(Event::Assets {
            location: file.clone(),
            items: vec![asset],
        }),
    )?;
    if let Some(why) = short_of_its_application(&meta) {
        send(
            &rt,
            &tx,
            Ok(Event::AppIncomplete {
                app_id: asset_id.clone(),
                location: file.clone(),
                message: why,
            }),
        )?;
    }
    let mut warnings = Warnings::default();
    for w in meta
        .warnings
        .iter()
        .cloned()
        .chain(named_by_its_file(&asset_id))
    {
        if let Some(ev) = warnings.event(file.clone(), w) {
            send(&rt, &tx, Ok(ev))?;
        }
    }
    // Pass 2: the issues.
    let progress_tx = tx.clone();
    let progress_rt = rt.clone();
    let issues = report
        .issues_with_progress(move |read, _| {
            let _ = send(
                &progress_rt,
                &progress_tx,
                Ok(bytes(total + read, total * 2)),
            );
        })
        .map_err(|e| source_error(format!("{}: {e}", path.display())))?;
    // The issues are read here and turned into records on a second thread, so that the
    // parsing (most of an import's reading) has this one to itself.
    let (chunks_tx, chunks) = std::sync::mpsc::sync_channel::<Result<Vec<Issue>, SourceError>>(2);
    let shape = Shape {
        rt: &rt,
        tx: &tx,
        file: &file,
        asset_id: &asset_id,
        options: &options,
        run_time,
    };
    std::thread::scope(|scope| {
        let records = scope.spawn(move || shape.pages(chunks, warnings));
        let mut chunk = Vec::with_capacity(PAGE);
        for issue in issues {
            match issue {
                Ok(issue) => chunk.push(issue),
                Err(e) => {
                    // Sent after the issues before it; the shaping thread ends the run.
                    let _ = chunks_tx.send(Err(source_error(format!("{}: {e}", path.display()))));
                    break;
                }
            }
            if chunk.len() >= PAGE {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(PAGE));
                if chunks_tx.send(Ok(full)).is_err() {
                    break; // the shaping thread stopped: its result says why
                }
            }
        }
        if !chunk.is_empty() {
            let _ = chunks_tx.send(Ok(chunk));
        }
        drop(chunks_tx);
        records
            .join()
            .map_err(|_| source_error("the report's record builder stopped".to_string()))?
    })
}

/// Turns the issues of pass 2 into pages of shaped records and sends them.
struct Shape<'a> {
    rt: &'a Handle,
    tx: &'a Sender,
    file: &'a str,
    asset_id: &'a str,
    options: &'a FullRunOptions,
    run_time: chrono::DateTime<Utc>,
}

impl Shape<'_> {
    fn send(&self, ev: Event) -> Result<(), SourceError> {
        send(self.rt, self.tx, Ok(ev))
    }

    /// Every chunk the reader sends, in order; then the application's end.
    fn pages(
        &self,
        chunks: std::sync::mpsc::Receiver<Result<Vec<Issue>, SourceError>>,
        mut warnings: Warnings,
    ) -> Result<(), SourceError> {
        let file = self.file;
        let mut page: Vec<Value> = Vec::with_capacity(PAGE);
        let mut first = 0u64;
        let mut seen = 0u64;
        let mut excluded = 0u64;
        let flush =
            |page: &mut Vec<Value>, first: &mut u64, seen: u64| -> Result<(), SourceError> {
                if page.is_empty() {
                    return Ok(());
                }
                let items = std::mem::replace(page, Vec::with_capacity(PAGE));
                self.send(Event::Findings {
                    app_id: self.asset_id.to_string(),
                    location: format!("{file} issues {}-{}", *first, seen - 1),
                    items,
                })?;
                *first = seen;
                Ok(())
            };
        for chunk in chunks {
            for issue in chunk? {
                let index = seen;
                seen += 1;
                let here = || format!("{file} issue {index} (item {})", issue.item_id);
                for w in &issue.warnings {
                    if let Some(ev) = warnings.event(here(), w.clone()) {
                        self.send(ev)?;
                    }
                }
                let Value::Object(mut rec) = issue.to_record() else {
                    continue;
                };
                if issue.item_id.is_empty() && issue.asoc_issue_id.is_none() {
                    rec.insert("Id".into(), json!(format!("{file}#{index}")));
                }
                let (keep, shaped) =
                    records::shape_finding(&mut rec, self.asset_id, self.options, self.run_time);
                for w in shaped {
                    if let Some(ev) = warnings.event(here(), w) {
                        self.send(ev)?;
                    }
                }
                if !keep {
                    excluded += 1;
                    continue;
                }
                page.push(Value::Object(rec));
                if page.len() >= PAGE {
                    flush(&mut page, &mut first, seen)?;
                }
            }
        }
        flush(&mut page, &mut first, seen)?;
        if excluded > 0 {
            tracing::info!(excluded, "findings without CVE, CWE or WASC id left out");
        }
        if let Some(ev) = warnings.summary(file) {
            self.send(ev)?;
        }
        self.send(Event::AppComplete {
            app_id: self.asset_id.to_string(),
            records: seen,
            empty_means_clean: true,
        })
    }
}

impl Source for XmlSource {
    fn events(&mut self, _request: Request) -> BoxStream<'static, Result<Event, SourceError>> {
        let path = self.path.clone();
        let app = self.app.clone();
        let options = self.options.clone();
        let known = std::mem::take(&mut self.known);
        let allow_older = self.allow_older;
        channel_stream(move |tx| async move {
            let rt = Handle::current();
            tokio::task::spawn_blocking(move || {
                produce(rt, tx, path, app, options, known, allow_older)
            })
            .await
            .map_err(|e| source_error(format!("the report reader stopped: {e}")))?
        })
        .boxed()
    }

    fn stats(&self) -> SourceStats {
        SourceStats::default()
    }

    fn closes_unseen(&self) -> bool {
        true
    }

    fn atomic(&self) -> bool {
        self.atomic
    }

    /// A report that lists one issue id twice says two things of one issue, and only
    /// the last is stored: the run says so.
    fn repeats_listed(&self) -> Option<&'static str> {
        Some("earlier in the report")
    }

    fn unknown_severity(&self) -> Option<model::Severity> {
        Some(self.options.unknown_severity())
    }

    fn known_assets(&mut self, known: KnownAssets) {
        self.known = known;
    }

    fn close(&mut self) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
}
