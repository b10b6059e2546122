//! The AppScan on Cloud source: apps, then issues per app, as pages.
//!
//! Full runs list every app and every issue. Delta runs list apps and issues with
//! `LastUpdated ge <since>`; issues are asked of every app the store knows plus every
//! app that changed, since an issue can change without its app changing.

use crate::RunnerError;
use crate::settings::Settings;
use crate::source::{Event, Request, Source, SourceError, SourceStats, channel_stream};
use asoc::{AsocClient, AsocError, ClientConfig, ListQuery, Page, odata_datetime};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, StreamExt};
use secrecy::SecretString;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use store::{Connector, RunMode};

pub struct AsocSource {
    client: AsocClient,
    app_filter: Option<String>,
    page_size: usize,
    /// Fetch the detail document of each issue the list gave without one.
    fetch_details: bool,
    concurrency: usize,
}

impl AsocSource {
    pub fn new(
        connector: &Connector,
        settings: &Settings,
        secret: Option<SecretString>,
    ) -> Result<AsocSource, RunnerError> {
        let missing = |what: &str| {
            RunnerError::Config(format!("connector '{}' has no {what}", connector.name))
        };
        let mut cfg = ClientConfig::new(
            connector.url.clone().ok_or_else(|| missing("URL"))?,
            connector.key_id.clone().ok_or_else(|| missing("key id"))?,
            secret.ok_or_else(|| missing("key secret"))?,
        );
        cfg.page_size = settings.page_size;
        cfg.concurrency = settings.concurrency;
        cfg.rate_limit_per_minute = settings.rate_limit_per_minute;
        cfg.max_retries = settings.max_retries;
        cfg.timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        cfg.ca_file = settings.ca_file.as_ref().map(Into::into);
        cfg.retry_base_delay = Duration::from_millis(settings.retry_base_ms);
        let client = AsocClient::new(cfg).map_err(|e| RunnerError::Config(e.to_string()))?;
        Ok(AsocSource {
            client,
            app_filter: app_filter(settings),
            page_size: settings.page_size,
            fetch_details: settings.fetch_details,
            concurrency: settings.concurrency.max(1),
        })
    }

    /// The client, for the connection check.
    pub fn client(&self) -> &AsocClient {
        &self.client
    }
}

/// The connector's OData filter of applications; a blank one (a config file's
/// `app_filter = ""`) selects every application.
pub fn app_filter(settings: &Settings) -> Option<String> {
    settings.app_filter.clone().filter(|f| !f.trim().is_empty())
}

fn and(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("({a}) and ({b})")),
        (a, b) => a.or(b),
    }
}

/// Fills in the `IssueXml` of each issue the list answer gave without one, from its
/// detail document, `concurrency` at a time. An issue whose document cannot be fetched
/// (or is no XML document) is taken out of the page as a lost record: the store keeps
/// what it had of it (a record without the document would erase the stored one), and the
/// run keeps its cursor so that the next sync asks again.
async fn fill_details(
    client: &AsocClient,
    items: &mut Vec<Value>,
    concurrency: usize,
) -> Vec<Event> {
    let wanted: Vec<(usize, String)> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| item.get("IssueXml").is_none_or(Value::is_null))
        .filter_map(|(n, item)| Some((n, item.get("Id")?.as_str()?.to_string())))
        .collect();
    let fetched: Vec<_> = futures::stream::iter(wanted)
        .map(|(n, id)| async move {
            let doc = client.issue_details(&id).await;
            (n, id, doc)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut events = Vec::new();
    let mut failed = std::collections::HashSet::new();
    for (n, id, doc) in fetched {
        match doc {
            Ok(doc) => {
                if let Some(Value::Object(item)) = items.get_mut(n) {
                    item.insert("IssueXml".into(), Value::String(doc));
                }
            }
            Err(e) => {
                failed.insert(n);
                events.push(Event::BadPage {
                    location: format!("GET /api/v4/Issues/{id}/Details"),
                    message: format!(
                        "the detail document could not be fetched ({e}); the issue is left as stored until the next sync"
                    ),
                    lost: 1,
                });
            }
        }
    }
    if !failed.is_empty() {
        let mut n = 0;
        items.retain(|_| {
            n += 1;
            !failed.contains(&(n - 1))
        });
    }
    events
}

/// A difference between the server's clock and this host's worth a warning: more than
/// network latency and a `Date` header's whole seconds explain.
const CLOCK_SKEW_WARNING: chrono::Duration = chrono::Duration::seconds(60);

/// A delta's `since` checked against the server's clock (`offset`: the server's clock
/// minus this host's, as its login answer showed), with what to warn of. A cursor later
/// than the server's now was saved while this host's clock ran ahead (or by an older
/// version, which kept cursors in this host's time): asked as it is, the delta got
/// nothing, ended Processed and moved the cursor past every change made meanwhile. Such
/// a delta asks for every issue instead.
fn checked_against_server_clock(
    since: Option<chrono::DateTime<chrono::Utc>>,
    offset: Option<chrono::Duration>,
) -> (Option<chrono::DateTime<chrono::Utc>>, Vec<Event>) {
    let mut warnings = Vec::new();
    let location = "GET /api/v4/Account/ApiKeyLogin (Date)".to_string();
    if let Some(offset) = offset.filter(|o| o.abs() > CLOCK_SKEW_WARNING) {
        let way = if offset > chrono::Duration::zero() {
            "ahead of"
        } else {
            "behind"
        };
        warnings.push(Event::BadPage {
            location: location.clone(),
            message: format!(
                "the server's clock is {} s {way} this host's: the cursor is kept in the \
                 server's time, but check this host's clock (NTP)",
                offset.num_seconds().abs()
            ),
            lost: 0,
        });
    }
    let server_now = chrono::Utc::now() + offset.unwrap_or_default();
    match since {
        Some(s) if s > server_now + CLOCK_SKEW_WARNING => {
            warnings.push(Event::BadPage {
                location,
                message: format!(
                    "the cursor ({}, less the overlap) is later than the server's clock \
                     ({}): it was saved while this host's clock ran ahead, or the server's \
                     clock was set back since, so this delta asks for every issue instead \
                     of missing what changed since",
                    odata_datetime(s),
                    odata_datetime(server_now)
                ),
                lost: 0,
            });
            (None, warnings)
        }
        other => (other, warnings),
    }
}

/// Times the application list is read before a run gives up on one that keeps changing.
const APP_LIST_READS: usize = 3;

/// The application list, whole: read again while its `Count` changes on the way (an
/// application added or deleted while it was paged moves the others across pages, and
/// one skipped is never asked for, by this run or a delta). Any error ends the run: a
/// page that cannot be read hides every issue of its applications, which no count of
/// lost records would say, and a delta would never ask for them.
async fn app_list(client: &AsocClient, query: &ListQuery) -> Result<Vec<Page>, SourceError> {
    let mut moved = String::new();
    for _ in 0..APP_LIST_READS {
        let mut pages = Vec::new();
        let mut listing = std::pin::pin!(client.apps(query.clone()));
        while let Some(page) = listing.next().await {
            match page {
                Ok(page) => pages.push(page),
                Err(AsocError::BadPage {
                    endpoint,
                    skip,
                    message,
                    ..
                }) => {
                    return Err(SourceError(format!(
                        "{endpoint} $skip={skip}: {message}: the application list could not be read, and the run stops rather than miss those applications' issues"
                    )));
                }
                Err(e) => return Err(SourceError::of(&e)),
            }
        }
        match pages.last().and_then(|p| p.moved.clone()) {
            None => return Ok(pages),
            Some(why) => {
                tracing::warn!(%why, "the application list changed while it was read; reading it again");
                moved = why;
            }
        }
    }
    Err(SourceError(format!(
        "GET /api/v4/Apps: {moved}, each of {APP_LIST_READS} times it was read: applications \
         moved between pages and some may have been skipped, so the run stops; the next one \
         reads the list again"
    )))
}

/// The ids of the applications the server lists now (through `query`, which selects
/// `Id`), read whole as [`app_list`] reads the list.
async fn app_ids_listed(
    client: &AsocClient,
    query: &ListQuery,
) -> Result<BTreeSet<String>, SourceError> {
    Ok(app_list(client, query)
        .await?
        .iter()
        .flat_map(|page| &page.items)
        .filter_map(|item| item.get("Id").and_then(|v| v.as_str()).map(str::to_string))
        .collect())
}

fn location(endpoint: &str, page: &Page) -> String {
    format!("{endpoint} $skip={}", page.skip)
}

/// Turns a listing error into an event (a bad page) or a reason to stop the run.
fn on_error(e: AsocError, page_size: usize) -> Result<Event, SourceError> {
    match e {
        AsocError::BadPage {
            endpoint,
            skip,
            message,
            gave_up,
            ..
        } => {
            let (message, lost) = match gave_up {
                None => (message, page_size as u64),
                // The listing ended here: what Count says came after was not read either.
                Some(Some(count)) => {
                    let lost = count.saturating_sub(skip as u64).max(page_size as u64);
                    (
                        format!(
                            "{message}; after {} unreadable pages in a row the listing gave \
                             up: {lost} of its {count} records from $skip={skip} on were not read",
                            asoc::MAX_CONSECUTIVE_BAD_PAGES
                        ),
                        lost,
                    )
                }
                // No page was read, so how many records are missing is not known: no
                // count of lost records can hold the run under its failure threshold
                // (60 of an application's 159 issues were counted, and the run ended
                // Processed). The run stops; what was read is kept, the cursor stays.
                Some(None) => {
                    return Err(SourceError(format!(
                        "{endpoint} $skip={skip}: {message}; after {} unreadable pages in a \
                         row the listing gave up before the server said how many records \
                         there are, so the run stops rather than miss an unknown number",
                        asoc::MAX_CONSECUTIVE_BAD_PAGES
                    )));
                }
            };
            Ok(Event::BadPage {
                location: format!("{endpoint} $skip={skip}"),
                message,
                lost,
            })
        }
        other => Err(SourceError::of(&other)),
    }
}

impl Source for AsocSource {
    fn events(&mut self, request: Request) -> BoxStream<'static, Result<Event, SourceError>> {
        let client = self.client.clone();
        let page_size = self.page_size;
        let since = match request.mode {
            RunMode::Delta => request.since,
            RunMode::Full | RunMode::Remap => None,
        };
        let app_filter = self.app_filter.clone();
        let ids_query = ListQuery::all()
            .with_filter_opt(self.app_filter.clone())
            .with_select("Id");
        let known = request.known_assets;
        let delta = request.mode == RunMode::Delta;
        let (fetch_details, concurrency) = (self.fetch_details, self.concurrency);
        let stream = channel_stream(move |tx| async move {
            client.login().await.map_err(|e| SourceError::of(&e))?;
            let (since, warnings) =
                checked_against_server_clock(since, client.server_clock_offset());
            for warning in warnings {
                tx.send(Ok(warning)).await?;
            }
            let since = since.map(|s| format!("LastUpdated ge {}", odata_datetime(s)));
            let app_query = ListQuery::all().with_filter_opt(and(app_filter, since.clone()));
            let issue_query = ListQuery::all().with_filter_opt(since);
            let mut app_ids: BTreeSet<String> = BTreeSet::new();
            let pages = match app_list(&client, &app_query).await {
                Ok(pages) => pages,
                Err(e) => {
                    tx.send(Err(e)).await?;
                    return Ok(());
                }
            };
            for page in pages {
                for item in &page.items {
                    if let Some(id) = item.get("Id").and_then(|v| v.as_str()) {
                        app_ids.insert(id.to_string());
                    }
                }
                let location = location("GET /api/v4/Apps", &page);
                tx.send(Ok(Event::Assets {
                    location,
                    items: page.items,
                }))
                .await?;
            }
            // The applications there are now: a full run's list, or for a delta (whose
            // list holds only the applications changed since the cursor) their ids alone.
            // A delta asked every stored application for its issues, so one deleted cost
            // a 404 and an existence check on every delta, for ever: a service's deltas
            // grew slower with each application ever deleted (14: 77 requests, 4 s).
            let listed = if delta {
                match app_ids_listed(&client, &ids_query).await {
                    // No application at all while the store has some is no data, and the
                    // run aborts as a full run does (`judge`): a delta that went on warned
                    // of each, ended Processed and moved its cursor past every change made
                    // meanwhile, which no later delta asked for again.
                    Ok(ids) if ids.is_empty() && !known.is_empty() => {
                        tx.send(Ok(Event::AppsTotal(0))).await?;
                        return Ok(());
                    }
                    Ok(ids) => ids,
                    Err(e) => {
                        tx.send(Err(e)).await?;
                        return Ok(());
                    }
                }
            } else {
                app_ids.clone()
            };
            // ASoC runs close nothing (only full-run sources do): an app the store has
            // that the server no longer lists keeps its findings as they were, and the
            // run says so instead of leaving them silently open.
            for id in known {
                if !listed.contains(&id) {
                    tx.send(Ok(Event::BadPage {
                        location: format!("GET /api/v4/Apps (application {id})"),
                        message: "a stored application is no longer listed (deleted, outside \
                                  the app filter, or the key lost access to it): its \
                                  findings are kept as they were"
                            .into(),
                        lost: 0,
                    }))
                    .await?;
                } else if delta {
                    app_ids.insert(id);
                }
            }
            tx.send(Ok(Event::AppsTotal(app_ids.len() as u64))).await?;
            let mut done: std::collections::HashMap<String, u64> = Default::default();
            let mut issues = std::pin::pin!(
                client.issues_for_apps(app_ids.iter().cloned().collect(), issue_query)
            );
            while let Some(page) = issues.next().await {
                match page {
                    Ok(page) => {
                        let app_id = page.app_id.clone().unwrap_or_default();
                        let endpoint = format!("GET /api/v4/Issues/Application/{app_id}");
                        let n = page.items.len() as u64;
                        let seen = done.entry(app_id.clone()).or_default();
                        *seen += n;
                        let complete =
                            page.count.is_none_or(|c| page.skip as u64 + n >= c) || n == 0;
                        let records = *seen;
                        // An empty page where Count says there is more ends the listing
                        // (Count may be stale), but what it did not list is said.
                        let unlisted = page
                            .count
                            .filter(|_| n == 0)
                            .map_or(0, |c| c.saturating_sub(page.skip as u64));
                        if unlisted > 0 {
                            tx.send(Ok(Event::BadPage {
                                location: location(&endpoint, &page),
                                message: format!(
                                    "an empty page where Count says {} issues: the listing ended there",
                                    page.count.unwrap_or_default()
                                ),
                                lost: unlisted,
                            }))
                            .await?;
                        }
                        // Issues added or deleted while the app's issues were paged moved
                        // the others across pages: one skipped is not asked for again by
                        // a delta unless it changes. Counted lost, the cursor stays.
                        if let Some(why) = page.moved.as_deref().filter(|_| complete) {
                            tx.send(Ok(Event::BadPage {
                                location: location(&endpoint, &page),
                                message: format!(
                                    "{why}: issues moved between pages and some may have been \
                                     skipped; counted as lost, so the cursor stays (a full sync \
                                     reads every issue again)"
                                ),
                                lost: 1,
                            }))
                            .await?;
                        }
                        let here = location(&endpoint, &page);
                        let mut items = page.items;
                        if fetch_details {
                            for ev in fill_details(&client, &mut items, concurrency).await {
                                tx.send(Ok(ev)).await?;
                            }
                        }
                        tx.send(Ok(Event::Findings {
                            app_id: app_id.clone(),
                            location: here,
                            items,
                        }))
                        .await?;
                        if complete {
                            tx.send(Ok(Event::AppComplete {
                                app_id,
                                records,
                                empty_means_clean: false,
                            }))
                            .await?;
                        }
                    }
                    Err(AsocError::Http {
                        status: 404,
                        endpoint,
                        ..
                    }) => {
                        // An app removed from ASoC: one the store knew (a delta), or one
                        // deleted between the application list and its issues (any
                        // run; a full run ended Errored on it). Only when the app list
                        // says so too: a passing 404 counted as "gone" lost nothing, so
                        // the cursor moved past the app's changes for good.
                        let app = app_ids
                            .iter()
                            .find(|id| client.issues_endpoint(id) == endpoint);
                        let listed = match app {
                            Some(id) => client.app_listed(id).await,
                            None => Ok(false),
                        };
                        let (message, lost) = match listed {
                            Ok(false) => ("application no longer exists (404)".to_string(), 0),
                            Ok(true) => (
                                "its issues answered 404 while the application is still \
                                 listed: counted as lost, so the cursor stays"
                                    .to_string(),
                                page_size as u64,
                            ),
                            Err(e) => (
                                format!(
                                    "its issues answered 404, and whether the application \
                                     still exists could not be told ({e}): counted as lost"
                                ),
                                page_size as u64,
                            ),
                        };
                        tx.send(Ok(Event::BadPage {
                            location: endpoint,
                            message,
                            lost,
                        }))
                        .await?;
                    }
                    Err(e) => tx.send(on_error(e, page_size)).await?,
                }
            }
            Ok(())
        });
        stream.boxed()
    }

    fn stats(&self) -> SourceStats {
        let s = self.client.stats();
        SourceStats {
            requests: s.requests,
            retries: s.retries,
        }
    }

    fn client_stats(&self) -> Option<asoc::ClientStats> {
        Some(self.client.stats())
    }

    fn server_clock_offset(&self) -> Option<chrono::Duration> {
        self.client.server_clock_offset()
    }

    fn close(&mut self) -> BoxFuture<'static, ()> {
        let client = self.client.clone();
        Box::pin(async move { client.logout().await })
    }
}

pub(crate) trait WithFilterOpt {
    fn with_filter_opt(self, f: Option<String>) -> Self;
}

impl WithFilterOpt for ListQuery {
    fn with_filter_opt(self, f: Option<String>) -> Self {
        match f {
            Some(f) => self.with_filter(f),
            None => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad_page(skip: usize, gave_up: Option<Option<u64>>) -> AsocError {
        AsocError::BadPage {
            endpoint: "/api/v4/Issues/Application/a".into(),
            app_id: Some("a".into()),
            skip,
            message: "not JSON".into(),
            excerpt: String::new(),
            gave_up,
        }
    }

    /// A listing that gave up after unreadable pages in a row read nothing after them:
    /// only the pages themselves were counted lost, and the run could end Processed
    /// under its failure threshold with an application's issues missing.
    #[test]
    fn a_listing_that_gave_up_counts_what_it_did_not_read() {
        let Ok(Event::BadPage { lost, .. }) = on_error(bad_page(20, None), 20) else {
            panic!("not a bad page");
        };
        assert_eq!(lost, 20, "one page skipped, the listing goes on");
        let Ok(Event::BadPage { lost, message, .. }) = on_error(bad_page(40, Some(Some(343))), 20)
        else {
            panic!("not a bad page");
        };
        assert_eq!(lost, 303, "this page and every record after it");
        assert!(message.contains("gave up"), "{message}");
        // Before any Count: how many are missing is not known, and no count of lost
        // records can hold the run under its threshold. The run stops.
        let Err(SourceError(why)) = on_error(bad_page(40, Some(None)), 20) else {
            panic!("the run goes on");
        };
        assert!(why.contains("stops"), "{why}");
    }
}
