//! The dashboard's HTML, written with maud (escaped by construction).
//!
//! Pages use no inline styles or scripts, so the Content-Security-Policy can forbid them;
//! bars and the chart are SVG, sized with attributes. Every value that comes from scanned
//! data or from the query goes through [`shown`] (or [`shown_lines`]): a bidirectional
//! override in a URL made `x.test/\u{202E}gnp.exe` read `x.test/exe.png`, and a NUL in
//! the filter made the page invalid HTML.

use super::chart;
use crate::api::list::ListParams;
use crate::api::views::{ConnectorView, FindingDetail, FindingView, RunView, SummaryView};
use chrono::{DateTime, SecondsFormat, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use query::{Entity, Sort};
use std::borrow::Cow;
use store::OpenPoint;

/// Findings per page of the dashboard's table.
pub const PAGE_SIZE: u64 = 50;

/// The findings table's columns: (heading, the field its header link sorts by).
const FINDING_COLUMNS: [(&str, &str); 7] = [
    ("ID", "id"),
    ("Severity", "severity"),
    ("Status", "status"),
    ("Issue", "name"),
    ("Application", "app"),
    ("Location", "location"),
    ("Last seen", "lastSeen"),
];

/// A one-line value as the page shows it: control characters escaped (`\x00`) and
/// bidirectional controls named (`<U+202E>`), as the CLI shows them.
pub fn shown(s: &str) -> Cow<'_, str> {
    model::text::visible(s, false)
}

/// [`shown`] for a text of several lines (a description): line breaks and tabs stay.
pub fn shown_lines(s: &str) -> Cow<'_, str> {
    model::text::visible(s, true)
}

/// The most characters a table cell shows of a text; the whole text is on its own page
/// (a scanned site's 20,000-character names made the overview take seconds to draw).
const CELL_CHARS: usize = 200;

/// [`shown`], cut to [`CELL_CHARS`] for a table cell.
fn cell(s: &str) -> Cow<'_, str> {
    model::text::cut(s, CELL_CHARS)
}

/// A form field's value (the filter box, the connector and sort it keeps): sent back as
/// it came, so that submitting the form again searches for the same thing (a
/// bidirectional control or a tab shown escaped became part of the next search). Only
/// NUL, which HTML cannot hold, becomes U+FFFD, as a browser would make it.
fn form_value(s: &str) -> Cow<'_, str> {
    model::text::storable(s)
}

/// A filter and, under it, a caret at the mistake's column, both [`shown`]: the caret
/// moves right by what the escapes before it added, so it stays under its character.
fn shown_caret(caret: &str) -> String {
    let Some((input, marker)) = caret.split_once('\n') else {
        return shown(caret).into_owned();
    };
    let column = marker.len() - marker.trim_start_matches(' ').len();
    let pad: usize = input
        .chars()
        .take(column)
        .map(|c| shown(c.encode_utf8(&mut [0; 4])).chars().count())
        .sum();
    format!(
        "{}\n{}{}",
        shown(input),
        " ".repeat(pad),
        shown(&marker[column..])
    )
}

/// The frame of every page.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (shown(title)) " · appscan-bridge" }
                link rel="icon" type="image/svg+xml" href="/assets/favicon.svg";
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to main content" }
                header.top {
                    a.brand href="/" { span.logo { (PreEscaped(super::LOGO)) } "appscan-bridge" }
                    nav aria-label="Main" {
                        a href="/" { "Overview" }
                        a href="/#findings" { "Findings" }
                        a href="/api/openapi.json" { "API" }
                        a href="/metrics" { "Metrics" }
                    }
                }
                main id="main" tabindex="-1" { (body) }
                // The page script shows times in the reader's zone and says which.
                footer { "appscan-bridge " (env!("CARGO_PKG_VERSION")) " · " span id="time-zone" { "times in UTC" } }
            }
        }
    }
}

/// A time as `<time datetime>` wants it: milliseconds at most, in UTC with `Z` (HTML
/// refuses the microseconds RFC 3339 allows).
fn datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2026-11-23 10:16` in a `<time>` element (the script shows it in local time).
fn when(t: Option<DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => html! {
            time datetime=(datetime(t)) { (t.format("%Y-%m-%d %H:%M")) }
        },
        None => html! { span.muted { "—" } },
    }
}

fn state_badge(state: &str) -> Markup {
    html! { span class=(format!("badge state-{}", state.to_ascii_lowercase())) { (shown(state)) } }
}

fn severity_badge(sev: &str) -> Markup {
    html! { span class=(format!("badge sev-{}", sev.to_ascii_lowercase())) { (shown(sev)) } }
}

fn status_badge(status: &str) -> Markup {
    html! { span class=(format!("badge status-{}", status.to_ascii_lowercase())) { (shown(status)) } }
}

fn run_summary(r: &RunView) -> Markup {
    html! {
        (state_badge(&r.state)) " "
        (when(Some(r.started_at)))
        span.muted {
            " · " (r.mode) " · " (r.counters.fetched) " fetched"
            @if let Some(d) = r.duration_seconds { " · " (format!("{d:.1}")) " s" }
        }
    }
}

/// A wide table in a box of its own that scrolls sideways, so a narrow screen scrolls
/// the table and not the page.
fn scrolling(table: Markup) -> Markup {
    html! { div.table-scroll { (table) } }
}

/// A mistake a page shows: one line, and the input with a caret under its place.
#[derive(Debug, Clone)]
pub struct Problem {
    pub line: String,
    pub caret: Option<String>,
    /// Whether it is the filter's mistake (the filter box is then marked invalid).
    pub in_filter: bool,
    /// Whether it is the sort's mistake (Clear then drops the sort too: a wrong sort from
    /// an old bookmark draws no table, so there are no headers to pick another).
    pub in_sort: bool,
}

/// One page of the findings table.
pub struct FindingsPage {
    pub rows: Vec<FindingView>,
    /// Whether rows follow this page (the store was asked for one row more).
    pub has_next: bool,
}

impl FindingsPage {
    /// The page out of the rows the store returned for a limit of `PAGE_SIZE + 1`.
    pub fn from_rows(mut rows: Vec<FindingView>) -> FindingsPage {
        let has_next = rows.len() as u64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        FindingsPage { rows, has_next }
    }
}

/// Everything the overview shows.
pub struct Overview {
    pub connectors: Vec<ConnectorView>,
    pub summary: SummaryView,
    pub series: Vec<OpenPoint>,
    pub findings: Result<FindingsPage, Problem>,
    pub params: ListParams,
}

impl Overview {
    /// The connector the page is limited to (`?connector=`), if any.
    fn scope(&self) -> Option<&str> {
        self.params.connector.as_deref()
    }

    /// How many findings the table pages through, when the counts already say (no
    /// filter); a count of a filtered listing would read every matching row.
    fn total(&self) -> Option<u64> {
        let filtered = self
            .params
            .filter
            .as_deref()
            .is_some_and(|f| !f.trim().is_empty());
        (!filtered).then_some(self.summary.findings)
    }
}

/// The query string of a listing (`?filter=…&connector=…&sort=…&offset=…`), or "".
fn query_string(params: &ListParams, offset: u64) -> String {
    let mut q: Vec<(&str, String)> = Vec::new();
    if let Some(f) = params.filter.as_deref().filter(|f| !f.is_empty()) {
        q.push(("filter", f.to_string()));
    }
    if let Some(c) = params.connector.as_deref() {
        q.push(("connector", c.to_string()));
    }
    if let Some(s) = params.sort.as_deref().filter(|s| !s.is_empty()) {
        q.push(("sort", s.to_string()));
    }
    if offset > 0 {
        q.push(("offset", offset.to_string()));
    }
    let query: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    }
}

/// The findings table at `offset` with these parameters.
fn link_with(params: &ListParams, offset: u64) -> String {
    format!("/{}#findings", query_string(params, offset))
}

/// Percent-encodes a query value.
fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The first key of the listing's sort as (field, descending); the store's default
/// (worst severity first) when none is given or it does not parse.
fn current_sort(params: &ListParams) -> (&'static str, bool) {
    let keys = params
        .sort
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| Sort::parse_list(Entity::Findings, s).ok())
        .unwrap_or_else(Sort::findings_default);
    keys.first()
        .map_or(("severity", true), |k| (k.field.name, k.descending))
}

/// A column header that sorts the table by `field`: ascending, or descending when it is
/// already ascending; filter and connector stay, paging starts again.
fn sort_header(params: &ListParams, heading: &str, field: &str) -> Markup {
    let (by, descending) = current_sort(params);
    let current = (by == field).then_some(descending);
    let next = if current == Some(false) {
        format!("{field}:desc")
    } else {
        format!("{field}:asc")
    };
    let target = ListParams {
        sort: Some(next),
        offset: None,
        ..params.clone()
    };
    let (aria, arrow) = match current {
        Some(false) => (Some("ascending"), " ▲"),
        Some(true) => (Some("descending"), " ▼"),
        None => (None, ""),
    };
    html! {
        th aria-sort=[aria] {
            a.sort href=(link_with(&target, 0)) { (heading) span aria-hidden="true" { (arrow) } }
        }
    }
}

fn severity_bars(s: &SummaryView) -> Markup {
    let order = ["Critical", "High", "Medium", "Low", "Informational"];
    let max = order
        .iter()
        .map(|k| s.by_severity.get(*k).copied().unwrap_or(0))
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        table.bars {
            @for k in order {
                @let n = s.by_severity.get(k).copied().unwrap_or(0);
                tr {
                    th { (severity_badge(k)) }
                    td.bar {
                        svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" {
                            rect class=(format!("fill-{}", k.to_ascii_lowercase())) x="0" y="0"
                                height="10" width=(format!("{:.2}", 100.0 * n as f64 / max as f64)) {}
                        }
                    }
                    td.num { (n) }
                }
            }
        }
    }
}

/// The line under the overview's heading when it is limited to one connector, with a
/// link to the whole store (filter and sort kept).
fn scope_notice(o: &Overview) -> Markup {
    let Some(name) = o.scope() else {
        return html! {};
    };
    let everything = ListParams {
        connector: None,
        offset: None,
        ..o.params.clone()
    };
    html! {
        p.scope id="scope" {
            "Limited to connector " strong { (shown(name)) }
            ": every count, the chart and the findings below are its own. "
            a href=(format!("/{}", query_string(&everything, 0))) { "Show all connectors" }
        }
    }
}

/// The four counts; the connectors card says how many of them the page shows.
fn cards(o: &Overview) -> Markup {
    let s = &o.summary;
    let all = o.connectors.len();
    html! {
        section.cards aria-label="Counts" {
            div.card { div.big { (s.assets) } div.label { "applications" } }
            div.card { div.big { (s.findings) } div.label { "findings" } }
            div.card.open { div.big { (s.open) } div.label { "open findings" } }
            div.card id="connectors-card" {
                @if o.scope().is_some() {
                    @let shown_here = shown_connectors(o).len();
                    div.big { (shown_here) span.of { " of " (all) } }
                    div.label { "connectors counted here" }
                } @else {
                    div.big { (all) }
                    div.label { "connectors" }
                }
            }
        }
    }
}

/// The connectors the page counts: all, or the one it is limited to.
fn shown_connectors(o: &Overview) -> Vec<&ConnectorView> {
    o.connectors
        .iter()
        .filter(|c| o.scope().is_none_or(|name| c.name == name))
        .collect()
}

fn connectors_table(o: &Overview) -> Markup {
    let listed = shown_connectors(o);
    html! {
        @if listed.is_empty() {
            @if let Some(name) = o.scope() {
                p.empty { "There is no connector '" (shown(name)) "'." }
            } @else {
                p.empty { "No connectors yet: " code { "appscan-bridge connector add asoc --name NAME --url URL --key-id ID" } }
            }
        } @else {
            (scrolling(html! {
                table.list {
                    thead { tr { th { "Name" } th { "Kind" } th { "State" } th { "Schedule" } th { "Last run" } th { "Next run" } } }
                    tbody {
                        @for c in listed {
                            tr {
                                td { a href=(format!("/connectors/{}", encode(&c.name))) { (shown(&c.name)) } }
                                td { (shown(&c.kind)) }
                                td {
                                    (state_badge(&c.state))
                                    @if c.running { " " span.running { "running" } }
                                    @if let Some(r) = &c.state_reason { div.reason { (cell(r)) } }
                                }
                                td { @if let Some(s) = &c.schedule { code { (shown(s)) } } @else { span.muted { "manual" } } }
                                td { @if let Some(r) = &c.last_run { (run_summary(r)) } @else { span.muted { "never" } } }
                                td { (when(c.next_run)) }
                            }
                        }
                    }
                }
            }))
        }
    }
}

/// The filter box; it keeps the connector and the sort, and when the filter is wrong it
/// is marked invalid and names the message that says why.
fn filter_form(o: &Overview) -> Markup {
    let p = &o.params;
    let invalid = matches!(&o.findings, Err(e) if e.in_filter);
    let wrong_sort = matches!(&o.findings, Err(e) if e.in_sort);
    let sort = p.sort.as_deref().filter(|s| !s.trim().is_empty());
    let cleared = ListParams {
        filter: None,
        offset: None,
        sort: if wrong_sort { None } else { p.sort.clone() },
        ..p.clone()
    };
    html! {
        form.filter method="get" action="/#findings" {
            input type="search" name="filter" value=(form_value(p.filter.as_deref().unwrap_or_default()))
                placeholder="severity>=high and status:open" aria-label="Filter findings"
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then_some("filter-error")];
            @if let Some(c) = p.connector.as_deref() {
                input type="hidden" name="connector" value=(form_value(c));
            }
            @if let Some(s) = sort {
                input type="hidden" name="sort" value=(form_value(s));
            }
            button type="submit" { "Filter" }
            a.clear href=(link_with(&cleared, 0)) { "Clear" }
            a.clear id="export-csv" href=(export_link(p.filter.as_deref(), p.connector.as_deref())) { "Export CSV" }
        }
    }
}

fn findings_rows(o: &Overview, rows: &[FindingView]) -> Markup {
    scrolling(html! {
        table.list id="findings-table" {
            thead { tr { @for (heading, field) in FINDING_COLUMNS { (sort_header(&o.params, heading, field)) } } }
            tbody {
                @for f in rows {
                    tr {
                        td.num { a href=(format!("/findings/{}", f.id)) { (f.id) } }
                        td { (severity_badge(&f.severity)) }
                        td { (status_badge(&f.status)) }
                        td { a href=(format!("/findings/{}", f.id)) { (cell(&f.name)) } }
                        td { (cell(f.asset_name.as_deref().unwrap_or(&f.asset_external_id))) }
                        td.loc { (cell(f.location.as_deref().unwrap_or(""))) }
                        td { (when(Some(f.last_seen))) }
                    }
                }
            }
        }
    })
}

/// Previous, the rows shown (of how many, when known) and Next.
fn pager(o: &Overview, page: &FindingsPage) -> Markup {
    let offset = o.params.offset.unwrap_or(0);
    // From a page past the end, Previous leads to the last page when the count is known
    // (offset - 50 was still past the end); without a count, the first-page link stays.
    let previous = if page.rows.is_empty() {
        o.total()
            .map(|total| total.saturating_sub(1) / PAGE_SIZE * PAGE_SIZE)
    } else {
        Some(offset.saturating_sub(PAGE_SIZE))
    };
    html! {
        nav.pager aria-label="Pages of findings" {
            @if let Some(previous) = previous.filter(|_| offset > 0) {
                a rel="prev" href=(link_with(&o.params, previous)) { "← Previous" }
            }
            @if !page.rows.is_empty() {
                span.muted id="rows-shown" {
                    "rows " (offset + 1) "–" (offset + page.rows.len() as u64)
                    @if let Some(total) = o.total() { " of " (total) }
                }
            }
            @if page.has_next {
                a rel="next" href=(link_with(&o.params, offset + PAGE_SIZE)) { "Next →" }
            }
        }
    }
}

fn findings_section(o: &Overview) -> Markup {
    let offset = o.params.offset.unwrap_or(0);
    html! {
        section.panel id="findings" {
            h2 { "Findings" }
            (filter_form(o))
            @match &o.findings {
                Err(e) => {
                    div.error id="filter-error" role="alert" {
                        p { (shown(&e.line)) }
                        @if let Some(c) = &e.caret { pre.caret { (shown_caret(c)) } }
                    }
                }
                Ok(page) if page.rows.is_empty() && offset > 0 => {
                    p.empty id="no-findings" {
                        "This page is past the end of the findings. "
                        a href=(link_with(&o.params, 0)) { "Go to the first page" }
                    }
                    (pager(o, page))
                }
                Ok(page) if page.rows.is_empty() => { p.empty id="no-findings" { "No findings match." } }
                Ok(page) => {
                    (findings_rows(o, &page.rows))
                    (pager(o, page))
                }
            }
        }
    }
}

pub fn overview(o: &Overview) -> Markup {
    let s = &o.summary;
    let body = html! {
        h1 {
            "Overview"
            @if let Some(name) = o.scope() { " of connector " (shown(name)) }
        }
        (scope_notice(o))
        (cards(o))
        section.grid {
            div.panel {
                h2 { "Findings by severity" }
                (severity_bars(s))
            }
            div.panel {
                h2 { "Findings by status" }
                table.counts id="status-counts" {
                    @for (k, n) in &s.by_status {
                        @if *n > 0 {
                            tr { th { (status_badge(k)) } td.num { (n) } }
                        }
                    }
                }
            }
        }
        section.panel {
            h2 { "Open findings over time" }
            (chart::open_findings(&o.series, o.scope()))
        }
        section.panel id="connectors" {
            h2 { "Connectors" }
            (connectors_table(o))
        }
        (findings_section(o))
    };
    layout("Overview", body)
}

fn field(name: &str, value: Option<String>) -> Markup {
    html! {
        @if let Some(v) = value.filter(|v| !v.is_empty()) {
            dt { (name) } dd { (shown(&v)) }
        }
    }
}

fn history_table(d: &FindingDetail) -> Markup {
    scrolling(html! {
        table.list.narrow {
            thead { tr { th { "When" } th { "Change" } th { "Run" } } }
            tbody {
                @for h in &d.history {
                    tr {
                        td { (when(Some(h.at))) }
                        td {
                            @if let Some(old) = &h.old_status { (status_badge(old)) " → " } @else { span.muted { "found as " } }
                            (status_badge(&h.new_status))
                        }
                        td { @if let Some(r) = h.run_id { (r) } }
                    }
                }
            }
        }
    })
}

pub fn finding(d: &FindingDetail) -> Markup {
    let f = &d.finding;
    let body = html! {
        p.crumbs { a href="/#findings" { "← Findings" } }
        h1 { (shown(&f.name)) }
        p { (severity_badge(&f.severity)) " " (status_badge(&f.status)) span.muted { " finding " (f.id) " of " (shown(&f.connector)) } }
        section.grid {
            div.panel {
                h2 { "Where" }
                dl {
                    (field("Application", f.asset_name.clone().or(Some(f.asset_external_id.clone()))))
                    (field("Application URL", f.asset_url.clone()))
                    (field("Location", f.location.clone()))
                    (field("Element", f.element.clone()))
                    (field("Port", f.port.map(|p| p.to_string())))
                    (field("Protocol", f.protocol.clone()))
                }
            }
            div.panel {
                h2 { "What" }
                dl {
                    (field("Issue type", f.issue_type.clone()))
                    (field("Source severity", Some(f.source_severity.clone())))
                    (field("Source status", f.source_status.clone()))
                    (field("CWE", f.cwe.map(|c| format!("CWE-{c}"))))
                    (field("CVE", f.cve.clone()))
                    (field("CVSS", f.cvss.map(|c| format!("{c:.1}"))))
                    (field("External id", Some(f.external_id.clone())))
                    (field("Fingerprint", Some(f.fingerprint.clone())))
                }
            }
        }
        @if let Some(t) = f.description.as_deref().filter(|t| !t.is_empty()) {
            section.panel { h2 { "Description" } pre.text { (shown_lines(t)) } }
        }
        @if let Some(t) = f.solution.as_deref().filter(|t| !t.is_empty()) {
            section.panel { h2 { "Solution" } pre.text { (shown_lines(t)) } }
        }
        section.panel id="history" {
            h2 { "History" }
            (history_table(d))
            p.muted { "First seen " (when(Some(f.first_seen))) ", last seen " (when(Some(f.last_seen))) "." }
        }
    };
    layout(&format!("Finding {}", f.id), body)
}

fn runs_table(runs: &[RunView]) -> Markup {
    scrolling(html! {
        table.list id="runs" {
            thead { tr { th { "Run" } th { "State" } th { "Started" } th { "Mode" } th.num { "Fetched" } th.num { "Inserted" } th.num { "Updated" } th.num { "Failed" } th { "Reason" } } }
            tbody {
                @for r in runs {
                    tr {
                        td.num { (r.id) }
                        td { (state_badge(&r.state)) }
                        td { (when(Some(r.started_at))) }
                        td { (r.mode) }
                        td.num { (r.counters.fetched) }
                        td.num { (r.counters.inserted) }
                        td.num { (r.counters.updated) }
                        td.num { (r.counters.failed) }
                        td.reason { (cell(r.reason.as_deref().unwrap_or(""))) }
                    }
                }
            }
        }
    })
}

pub fn connector(c: &ConnectorView, runs: &[RunView]) -> Markup {
    let findings = ListParams {
        connector: Some(c.name.clone()),
        ..ListParams::default()
    };
    let body = html! {
        p.crumbs { a href="/#connectors" { "← Connectors" } }
        h1 { (shown(&c.name)) " " (state_badge(&c.state)) }
        @if let Some(r) = &c.state_reason { p.reason { (shown(r)) } }
        p { a id="connector-findings" href=(link_with(&findings, 0)) { "Its findings →" } }
        section.panel {
            dl {
                (field("Kind", Some(c.kind.clone())))
                (field("URL", c.url.clone()))
                (field("Key id", c.key_id.clone()))
                (field("Key secret", c.secret.clone()))
                (field("Description", c.description.clone()))
                (field("Schedule", c.schedule.clone()))
                dt { "Next run" } dd { (when(c.next_run)) }
                dt { "Cursor" } dd { (when(c.cursor)) }
            }
        }
        section.panel {
            h2 { "Runs" }
            @if runs.is_empty() { p.empty { "No runs yet." } } @else { (runs_table(runs)) }
        }
    };
    layout(&c.name, body)
}

/// An error page (404, 400, 500); the message may quote the request's path.
pub fn error(status: u16, message: &str) -> Markup {
    layout(
        &status.to_string(),
        html! {
            section.panel {
                h1 { (status) }
                p.error { (shown(message)) }
                p { a href="/" { "Back to the overview" } }
            }
        },
    )
}

/// `/api/export?format=csv` with the dashboard's filter and connector.
fn export_link(filter: Option<&str>, connector: Option<&str>) -> String {
    let mut link = "/api/export?format=csv".to_string();
    for (k, v) in [("filter", filter), ("connector", connector)] {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            link.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    link
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::views::{CountersView, HistoryView};
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, 4, 46)
            .single()
            .unwrap_or_default()
            + chrono::Duration::microseconds(934_509)
    }

    fn finding_view(id: i64, name: &str, location: &str) -> FindingView {
        FindingView {
            id,
            connector: "cloud".into(),
            asset_name: Some(format!("App \u{202E}{id}")),
            asset_url: None,
            external_id: format!("x{id}"),
            asset_external_id: "a1".into(),
            name: name.into(),
            severity: "Medium".into(),
            source_severity: "Medium".into(),
            status: "NEW".into(),
            source_status: None,
            cve: None,
            cvss: None,
            cwe: None,
            first_found: None,
            last_found: None,
            last_updated: None,
            port: None,
            protocol: None,
            issue_type: None,
            location: Some(location.into()),
            element: None,
            detection: None,
            description: Some("line one\nline \u{1b}[2J two".into()),
            solution: None,
            tags: vec![],
            fingerprint: "fp".into(),
            active: true,
            first_seen: at(),
            last_seen: at(),
            risk: 0,
            kev: false,
        }
    }

    fn connector_view(name: &str, reason: Option<&str>) -> ConnectorView {
        ConnectorView {
            name: name.into(),
            kind: "asoc".into(),
            url: None,
            key_id: None,
            secret: None,
            description: None,
            schedule: None,
            state: "Errored".into(),
            state_reason: reason.map(str::to_string),
            cursor: None,
            next_run: None,
            running: false,
            last_run: None,
            settings: serde_json::Value::Null,
            created_at: at(),
            updated_at: at(),
        }
    }

    fn run_view(reason: &str) -> RunView {
        RunView {
            id: 1,
            connector: "cloud".into(),
            mode: "full".into(),
            state: "Errored".into(),
            started_at: at(),
            ended_at: None,
            duration_seconds: None,
            counters: CountersView {
                fetched: 0,
                inserted: 0,
                updated: 0,
                unchanged: 0,
                failed: 0,
                warnings: 0,
                retries: 0,
                requests: 0,
                closed: 0,
            },
            reason: Some(reason.into()),
            cursor_from: None,
        }
    }

    fn summary(findings: u64) -> SummaryView {
        SummaryView {
            assets: 1,
            findings,
            open: findings,
            by_severity: BTreeMap::new(),
            by_status: BTreeMap::new(),
        }
    }

    /// An overview of `rows` findings (of `total`) with these parameters.
    fn overview_of(params: ListParams, rows: usize, total: u64) -> String {
        let rows = (0..rows as i64)
            .map(|i| finding_view(i + 1, "XSS", "https://x.test/"))
            .collect();
        overview(&Overview {
            connectors: vec![
                connector_view("cloud", None),
                connector_view("onprem", None),
            ],
            summary: summary(total),
            series: Vec::new(),
            findings: Ok(FindingsPage::from_rows(rows)),
            params,
        })
        .into_string()
    }

    #[test]
    fn encodes_query_values_and_keeps_the_filter_in_links() {
        assert_eq!(encode("severity >= high & x"), "severity+%3E%3D+high+%26+x");
        let p = ListParams {
            filter: Some("status = open".into()),
            ..Default::default()
        };
        assert_eq!(
            link_with(&p, 50),
            "/?filter=status+%3D+open&offset=50#findings"
        );
        assert_eq!(link_with(&ListParams::default(), 0), "/#findings");
    }

    #[test]
    fn scanned_text_shows_its_bidi_and_control_characters_everywhere() {
        let hostile = "https://x.test/\u{202E}gnp.exe";
        let detail = FindingDetail {
            finding: finding_view(7, "Issue \u{2067}name", hostile),
            history: vec![HistoryView {
                run_id: Some(1),
                at: at(),
                old_status: None,
                new_status: "NEW".into(),
            }],
        };
        let page = finding(&detail).into_string();
        assert!(
            page.contains("https://x.test/&lt;U+202E&gt;gnp.exe"),
            "{page}"
        );
        assert!(page.contains("<h1>Issue &lt;U+2067&gt;name</h1>"), "{page}");
        assert!(page.contains("line one\nline \\x1b[2J two"), "{page}");
        let table = overview(&Overview {
            connectors: vec![connector_view("cloud", Some("failed at \u{202E}x\u{7}"))],
            summary: summary(1),
            series: Vec::new(),
            findings: Ok(FindingsPage::from_rows(vec![detail.finding])),
            params: ListParams::default(),
        })
        .into_string();
        assert!(table.contains("gnp.exe") && table.contains("failed at &lt;U+202E&gt;x\\x07"));
        let conn = connector(
            &connector_view("cloud", Some("\u{202E}reason")),
            &[run_view("run \u{202E}reason\0")],
        )
        .into_string();
        assert!(conn.contains("run &lt;U+202E&gt;reason\\x00"), "{conn}");
        let error = error(404, "there is no finding 'a\0b'").into_string();
        assert!(error.contains("a\\x00b"));
        for page in [&page, &table, &conn, &error] {
            assert!(
                !page.contains(['\u{202E}', '\u{2067}', '\0', '\u{1b}', '\u{7}']),
                "a control character reached the page: {page}"
            );
        }
    }

    #[test]
    fn a_nul_in_the_filter_is_replaced_and_the_caret_stays_under_its_place() {
        let page = overview(&Overview {
            connectors: Vec::new(),
            summary: summary(0),
            series: Vec::new(),
            findings: Err(Problem {
                line: "invalid filter: unknown field 'a\u{FFFD}b'".into(),
                caret: Some("x a\0b\n  ^ unknown field".into()),
                in_filter: true,
                in_sort: false,
            }),
            params: ListParams {
                filter: Some("x a\0b".into()),
                ..Default::default()
            },
        })
        .into_string();
        assert!(!page.contains('\0'), "{page}");
        // The box holds the text as searched but NUL, which HTML cannot hold.
        assert!(page.contains("value=\"x a\u{FFFD}b\""), "{page}");
        assert!(page.contains("<pre class=\"caret\">x a\\x00b\n  ^ unknown field</pre>"));
        assert_eq!(
            shown_caret("a\0b\u{202E}c\n     ^ here"),
            "a\\x00b<U+202E>c\n".to_string() + &" ".repeat(15) + "^ here"
        );
        // The error is the filter box's: marked invalid, named by it, announced.
        assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"filter-error\""));
        assert!(
            page.contains("id=\"filter-error\" role=\"alert\""),
            "{page}"
        );
    }

    #[test]
    fn the_filter_form_keeps_the_sort_and_the_headers_sort_by_their_column() {
        let params = ListParams {
            filter: Some("severity>=high".into()),
            connector: Some("cloud".into()),
            sort: Some("name:asc".into()),
            offset: Some(50),
            ..Default::default()
        };
        let page = overview_of(params, 3, 3);
        assert!(page.contains("<input type=\"hidden\" name=\"sort\" value=\"name:asc\">"));
        assert!(page.contains("<input type=\"hidden\" name=\"connector\" value=\"cloud\">"));
        // Issue is sorted ascending: its header sorts descending, the others ascending;
        // filter and connector stay, paging starts again.
        assert!(page.contains(
            "<th aria-sort=\"ascending\"><a class=\"sort\" \
             href=\"/?filter=severity%3E%3Dhigh&amp;connector=cloud&amp;sort=name%3Adesc#findings\">Issue"
        ), "{page}");
        assert!(page.contains(
            "href=\"/?filter=severity%3E%3Dhigh&amp;connector=cloud&amp;sort=app%3Aasc#findings\">Application"
        ));
        // No sort: the store's default (worst severity first) is marked.
        let page = overview_of(ListParams::default(), 1, 1);
        assert!(page.contains("<th aria-sort=\"descending\"><a class=\"sort\" href=\"/?sort=severity%3Aasc#findings\">Severity"), "{page}");
    }

    #[test]
    fn next_shows_only_when_a_row_follows_and_previous_whenever_the_page_is_not_the_first() {
        let rows =
            |n: i64| -> Vec<FindingView> { (0..n).map(|i| finding_view(i, "XSS", "/")).collect() };
        let full = FindingsPage::from_rows(rows(51));
        assert!(full.has_next && full.rows.len() == 50);
        assert!(!FindingsPage::from_rows(rows(50)).has_next);

        // Exactly one page of 50: no Next, and the count of all of them.
        let page = overview_of(ListParams::default(), 50, 50);
        assert!(!page.contains("rel=\"next\""), "{page}");
        assert!(page.contains("rows 1–50 of 50"), "{page}");
        let page = overview_of(ListParams::default(), 51, 120);
        assert!(
            page.contains("rel=\"next\" href=\"/?offset=50#findings\""),
            "{page}"
        );
        // A filtered listing has no cheap count.
        let filtered = ListParams {
            filter: Some("status:open".into()),
            ..Default::default()
        };
        assert!(overview_of(filtered, 2, 120).contains("rows 1–2</span>"));

        // A page past the end says so, links back, and to the first page.
        let past = ListParams {
            offset: Some(50),
            sort: Some("id".into()),
            ..Default::default()
        };
        let page = overview_of(past, 0, 50);
        assert!(page.contains("past the end"), "{page}");
        assert!(
            page.contains("rel=\"prev\" href=\"/?sort=id#findings\""),
            "{page}"
        );
        assert!(!page.contains("No findings match"));
        // Far past the end, Previous leads to the last page (offset - 50 was still past
        // it); filtered, with no count, only the first-page link.
        let far = ListParams {
            offset: Some(5_000),
            ..Default::default()
        };
        let page = overview_of(far, 0, 120);
        assert!(
            page.contains("rel=\"prev\" href=\"/?offset=100#findings\""),
            "{page}"
        );
        let far_filtered = ListParams {
            offset: Some(5_000),
            filter: Some("status:open".into()),
            ..Default::default()
        };
        assert!(!overview_of(far_filtered, 0, 120).contains("rel=\"prev\""));
    }

    #[test]
    fn a_page_limited_to_a_connector_says_so_and_links_to_all() {
        let params = ListParams {
            connector: Some("cloud".into()),
            sort: Some("id".into()),
            ..Default::default()
        };
        let page = overview_of(params, 1, 1);
        assert!(
            page.contains("<h1>Overview of connector cloud</h1>"),
            "{page}"
        );
        assert!(page.contains("id=\"scope\""));
        assert!(
            page.contains("<a href=\"/?sort=id\">Show all connectors</a>"),
            "{page}"
        );
        assert!(page.contains("1<span class=\"of\"> of 2</span>"), "{page}");
        assert!(page.contains("connectors counted here"));
        assert!(page.contains(">cloud</a>") && !page.contains(">onprem</a>"));
        let whole = overview_of(ListParams::default(), 1, 1);
        assert!(!whole.contains("id=\"scope\"") && whole.contains(">onprem</a>"));

        let page = connector(&connector_view("cloud", None), &[]).into_string();
        assert!(
            page.contains("href=\"/?connector=cloud#findings\""),
            "{page}"
        );
    }

    #[test]
    fn pages_have_a_heading_labelled_navigation_and_a_skip_link() {
        let page = overview_of(ListParams::default(), 1, 1);
        assert!(page.contains("<h1>Overview</h1>"));
        assert!(page.contains("<nav aria-label=\"Main\">"));
        assert!(page.contains("<nav class=\"pager\" aria-label=\"Pages of findings\">"));
        assert!(page.contains("<a class=\"skip\" href=\"#main\">"));
        assert!(page.contains("<main id=\"main\""));
        assert!(
            !page.contains("aria-invalid"),
            "no mistake, nothing invalid"
        );
    }

    #[test]
    fn times_carry_milliseconds_at_most_in_utc() {
        let html = when(Some(at())).into_string();
        assert_eq!(
            html,
            "<time datetime=\"2026-12-07T09:04:46.934Z\">2026-12-07 09:04</time>"
        );
    }

    /// The WCAG contrast ratio of two `#rrggbb` colours.
    fn contrast(a: &str, b: &str) -> f64 {
        let luminance = |hex: &str| {
            let channel = |i: usize| {
                let c =
                    u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0) as f64 / 255.0;
                if c <= 0.03928 {
                    c / 12.92
                } else {
                    ((c + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// The value of a custom property in the stylesheet.
    fn css_var(name: &str) -> &'static str {
        let css = include_str!("assets/app.css");
        css.split(&format!("--{name}: "))
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap_or("#000000")
    }

    #[test]
    fn text_colours_meet_wcag_aa_contrast() {
        let css = include_str!("assets/app.css");
        assert!(css.contains(".sev-medium { background: var(--medium-badge); color: #fff; }"));
        for (fg, bg) in [
            (css_var("muted"), css_var("bg")),
            (css_var("muted"), css_var("panel")),
            ("#ffffff", css_var("medium-badge")),
        ] {
            assert!(
                contrast(fg, bg) >= 4.5,
                "{fg} on {bg}: {:.2}",
                contrast(fg, bg)
            );
        }
    }
}
