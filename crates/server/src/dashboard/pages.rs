//! The dashboard's HTML, written with maud (escaped by construction).
//!
//! Pages use no inline styles or scripts, so the Content-Security-Policy can forbid them;
//! bars and the chart are SVG, sized with attributes.

use super::chart;
use crate::api::list::ListParams;
use crate::api::views::{ConnectorView, FindingDetail, FindingView, RunView, SummaryView};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use store::OpenPoint;

/// Findings per page of the dashboard's table.
pub const PAGE_SIZE: u64 = 50;

/// The frame of every page.
pub fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · appscan-bridge" }
                link rel="icon" type="image/svg+xml" href="/assets/favicon.svg";
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { span.logo { (PreEscaped(super::LOGO)) } "appscan-bridge" }
                    nav {
                        a href="/" { "Overview" }
                        a href="/#findings" { "Findings" }
                        a href="/api/openapi.json" { "API" }
                        a href="/metrics" { "Metrics" }
                    }
                }
                main { (body) }
                // The page script shows times in the reader's zone and says which.
                footer { "appscan-bridge " (env!("CARGO_PKG_VERSION")) " · " span id="time-zone" { "times in UTC" } }
            }
        }
    }
}

/// `2026-11-23 10:16` in a `<time>` element (the script shows it in local time).
fn when(t: Option<DateTime<Utc>>) -> Markup {
    match t {
        Some(t) => html! {
            time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M")) }
        },
        None => html! { span.muted { "—" } },
    }
}

fn state_badge(state: &str) -> Markup {
    html! { span class=(format!("badge state-{}", state.to_ascii_lowercase())) { (state) } }
}

fn severity_badge(sev: &str) -> Markup {
    html! { span class=(format!("badge sev-{}", sev.to_ascii_lowercase())) { (sev) } }
}

fn status_badge(status: &str) -> Markup {
    html! { span class=(format!("badge status-{}", status.to_ascii_lowercase())) { (status) } }
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

/// A mistake a page shows: one line, and the input with a caret under its place.
#[derive(Debug, Clone)]
pub struct Problem {
    pub line: String,
    pub caret: Option<String>,
}

/// Everything the overview shows.
pub struct Overview {
    pub connectors: Vec<ConnectorView>,
    pub summary: SummaryView,
    pub series: Vec<OpenPoint>,
    pub findings: Result<Vec<FindingView>, Problem>,
    pub params: ListParams,
}

fn link_with(params: &ListParams, offset: u64) -> String {
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
        "/#findings".into()
    } else {
        format!("/?{}#findings", query.join("&"))
    }
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

pub fn overview(o: &Overview) -> Markup {
    let s = &o.summary;
    let body = html! {
        section.cards {
            div.card { div.big { (s.assets) } div.label { "applications" } }
            div.card { div.big { (s.findings) } div.label { "findings" } }
            div.card.open { div.big { (s.open) } div.label { "open findings" } }
            div.card { div.big { (o.connectors.len()) } div.label { "connectors" } }
        }
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
            (chart::open_findings(&o.series))
        }
        section.panel id="connectors" {
            h2 { "Connectors" }
            @if o.connectors.is_empty() {
                p.empty { "No connectors yet: " code { "appscan-bridge connector add asoc --name NAME --url URL --key-id ID" } }
            } @else {
                table.list {
                    thead { tr { th { "Name" } th { "Kind" } th { "State" } th { "Schedule" } th { "Last run" } th { "Next run" } } }
                    tbody {
                        @for c in &o.connectors {
                            tr {
                                td { a href=(format!("/connectors/{}", encode(&c.name))) { (c.name) } }
                                td { (c.kind) }
                                td {
                                    (state_badge(&c.state))
                                    @if c.running { " " span.running { "running" } }
                                    @if let Some(r) = &c.state_reason { div.reason { (r) } }
                                }
                                td { @if let Some(s) = &c.schedule { code { (s) } } @else { span.muted { "manual" } } }
                                td { @if let Some(r) = &c.last_run { (run_summary(r)) } @else { span.muted { "never" } } }
                                td { (when(c.next_run)) }
                            }
                        }
                    }
                }
            }
        }
        section.panel id="findings" {
            h2 { "Findings" }
            form.filter method="get" action="/#findings" {
                input type="search" name="filter" value=(o.params.filter.clone().unwrap_or_default())
                    placeholder="severity>=high and status:open" aria-label="Filter findings";
                @if let Some(c) = o.params.connector.as_deref() {
                    input type="hidden" name="connector" value=(c);
                }
                button type="submit" { "Filter" }
                a.clear href="/#findings" { "Clear" }
                a.clear id="export-csv" href=(export_link(o.params.filter.as_deref(), o.params.connector.as_deref())) { "Export CSV" }
            }
            @match &o.findings {
                Err(e) => {
                    div.error id="filter-error" {
                        p { (e.line) }
                        @if let Some(c) = &e.caret { pre.caret { (c) } }
                    }
                }
                Ok(rows) if rows.is_empty() => { p.empty id="no-findings" { "No findings match." } }
                Ok(rows) => {
                    table.list id="findings-table" {
                        thead { tr { th { "ID" } th { "Severity" } th { "Status" } th { "Issue" } th { "Application" } th { "Location" } th { "Last seen" } } }
                        tbody {
                            @for f in rows {
                                tr {
                                    td.num { a href=(format!("/findings/{}", f.id)) { (f.id) } }
                                    td { (severity_badge(&f.severity)) }
                                    td { (status_badge(&f.status)) }
                                    td { a href=(format!("/findings/{}", f.id)) { (f.name) } }
                                    td { (f.asset_name.as_deref().unwrap_or(&f.asset_external_id)) }
                                    td.loc { (f.location.as_deref().unwrap_or("")) }
                                    td { (when(Some(f.last_seen))) }
                                }
                            }
                        }
                    }
                    @let offset = o.params.offset.unwrap_or(0);
                    nav.pager {
                        @if offset > 0 {
                            a href=(link_with(&o.params, offset.saturating_sub(PAGE_SIZE))) { "← Previous" }
                        }
                        span.muted { "rows " (offset + 1) "–" (offset + rows.len() as u64) }
                        @if rows.len() as u64 >= PAGE_SIZE {
                            a href=(link_with(&o.params, offset + PAGE_SIZE)) { "Next →" }
                        }
                    }
                }
            }
        }
    };
    layout("Overview", body)
}

fn field(name: &str, value: Option<String>) -> Markup {
    html! {
        @if let Some(v) = value.filter(|v| !v.is_empty()) {
            dt { (name) } dd { (v) }
        }
    }
}

pub fn finding(d: &FindingDetail) -> Markup {
    let f = &d.finding;
    let body = html! {
        p.crumbs { a href="/#findings" { "← Findings" } }
        h1 { (f.name) }
        p { (severity_badge(&f.severity)) " " (status_badge(&f.status)) span.muted { " finding " (f.id) " of " (f.connector) } }
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
            section.panel { h2 { "Description" } pre.text { (t) } }
        }
        @if let Some(t) = f.solution.as_deref().filter(|t| !t.is_empty()) {
            section.panel { h2 { "Solution" } pre.text { (t) } }
        }
        section.panel id="history" {
            h2 { "History" }
            table.list {
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
            p.muted { "First seen " (when(Some(f.first_seen))) ", last seen " (when(Some(f.last_seen))) "." }
        }
    };
    layout(&format!("Finding {}", f.id), body)
}

pub fn connector(c: &ConnectorView, runs: &[RunView]) -> Markup {
    let body = html! {
        p.crumbs { a href="/#connectors" { "← Connectors" } }
        h1 { (c.name) " " (state_badge(&c.state)) }
        @if let Some(r) = &c.state_reason { p.reason { (r) } }
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
            @if runs.is_empty() { p.empty { "No runs yet." } } @else {
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
                                td.reason { (r.reason.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(&c.name, body)
}

/// An error page (404, 400, 500).
pub fn error(status: u16, message: &str) -> Markup {
    layout(
        &status.to_string(),
        html! {
            section.panel {
                h1 { (status) }
                p.error { (message) }
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
}
