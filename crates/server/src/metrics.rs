//! Prometheus metrics, rendered on our own `/metrics` route.
//!
//! The recorder is this server's own (not the process-global one), so two servers in one
//! process — tests — keep separate numbers, and nothing else in the process can write to
//! it by accident. Counters are fed by the jobs that run syncs (runs, records, AppScan
//! requests by status, retries, rate-limit waits, durations) and by a middleware that
//! counts this server's own HTTP requests; the findings gauges are refreshed from the
//! store's summary on every scrape.

use crate::outage::Outage;
use asoc::ClientStats;
use chrono::{DateTime, Utc};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use model::{Severity, Status};
use std::sync::Mutex;
use std::time::Duration;
use store::{Connector, ConnectorState, RunCounters, RunTimes, Summary};

/// Name prefix of every metric.
pub const PREFIX: &str = "appscan_bridge";

/// Runs by connector and outcome (`processed`, `errored`, `aborted`, `cancelled`,
/// `locked`, `failed`).
pub const RUNS: &str = "appscan_bridge_runs_total";
pub const RECORDS_FETCHED: &str = "appscan_bridge_records_fetched_total";
pub const RECORDS_STORED: &str = "appscan_bridge_records_stored_total";
pub const RECORDS_FAILED: &str = "appscan_bridge_records_failed_total";
pub const APPSCAN_REQUESTS: &str = "appscan_bridge_appscan_requests_total";
pub const APPSCAN_RETRIES: &str = "appscan_bridge_appscan_retries_total";
pub const APPSCAN_TRANSPORT_ERRORS: &str = "appscan_bridge_appscan_transport_errors_total";
pub const RATE_LIMIT_WAITS: &str = "appscan_bridge_rate_limit_waits_total";
pub const RATE_LIMIT_WAIT_MS: &str = "appscan_bridge_rate_limit_wait_milliseconds_total";
pub const RUN_DURATION: &str = "appscan_bridge_run_duration_seconds";
pub const FINDINGS_BY_SEVERITY: &str = "appscan_bridge_findings_by_severity";
pub const FINDINGS_BY_STATUS: &str = "appscan_bridge_findings_by_status";
pub const ASSETS: &str = "appscan_bridge_assets";
pub const RUNNING: &str = "appscan_bridge_syncs_running";
pub const HTTP_REQUESTS: &str = "appscan_bridge_http_requests_total";
/// HTTP connections open to this server.
pub const HTTP_CONNECTIONS: &str = "appscan_bridge_http_connections";
/// This worker's clock minus the shared store server's (only on PostgreSQL).
pub const CLOCK_SKEW: &str = "appscan_bridge_clock_skew_seconds";
/// Due runs waiting for a free slot, as this worker's scheduler last saw them.
pub const DUE_RUNS_WAITING: &str = "appscan_bridge_due_runs_waiting";
/// How long the longest-waiting of them has waited.
pub const DUE_RUN_WAIT: &str = "appscan_bridge_due_run_wait_seconds";
/// 1 when the store answered the scrape's reads in time, else 0 (the findings gauges
/// then keep their last values and the connector gauges are left out).
pub const STORE_UP: &str = "appscan_bridge_store_up";
/// A constant 1 labelled with the binary's version.
pub const BUILD_INFO: &str = "appscan_bridge_build_info";
/// Each connector's state: 1 for the one it is in, 0 for the others.
pub const CONNECTOR_STATE: &str = "appscan_bridge_connector_state";
/// When each connector's last Processed run ended (seconds since 1970).
pub const CONNECTOR_LAST_SUCCESS: &str = "appscan_bridge_connector_last_success_timestamp_seconds";
/// When each connector's run under way (on any worker) started.
pub const CONNECTOR_RUNNING_SINCE: &str =
    "appscan_bridge_connector_running_since_timestamp_seconds";

/// Buckets of the run duration histogram, in seconds (a few seconds to two hours).
const DURATION_BUCKETS: &[f64] = &[
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];

static METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// The server's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Scrapes the store did not answer, said in the log when they start and end.
    store_outage: Mutex<Outage>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label::new(*k, v.to_string()))
        .collect()
}

impl Metrics {
    pub fn new() -> Metrics {
        // set_buckets_for_metric only fails on an empty bucket list, which ours is not;
        // should it ever, the histogram falls back to a summary.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(RUN_DURATION.into()), DURATION_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let m = Metrics {
            recorder,
            handle,
            store_outage: Mutex::new(Outage::default()),
        };
        m.describe();
        m.gauge(BUILD_INFO, &[("version", env!("CARGO_PKG_VERSION"))])
            .set(1.0);
        m
    }

    fn describe(&self) {
        let r = &self.recorder;
        let c = |name: &'static str, unit: Option<Unit>, text: &'static str| {
            r.describe_counter(KeyName::from_const_str(name), unit, text.into())
        };
        c(RUNS, None, "Sync runs by connector and outcome");
        c(RECORDS_FETCHED, None, "Records fetched from AppScan");
        c(
            RECORDS_STORED,
            None,
            "Records written to the store (inserted, updated or unchanged)",
        );
        c(
            RECORDS_FAILED,
            None,
            "Records that failed to map or were lost with a bad page",
        );
        c(
            APPSCAN_REQUESTS,
            None,
            "HTTP answers from AppScan by status",
        );
        c(
            APPSCAN_RETRIES,
            None,
            "Requests to AppScan repeated after a retryable failure",
        );
        c(
            APPSCAN_TRANSPORT_ERRORS,
            None,
            "Requests to AppScan that got no HTTP answer",
        );
        c(
            RATE_LIMIT_WAITS,
            None,
            "Requests that waited for the client-side rate limiter",
        );
        c(
            RATE_LIMIT_WAIT_MS,
            Some(Unit::Milliseconds),
            "Time spent waiting for the rate limiter",
        );
        c(
            HTTP_REQUESTS,
            None,
            "Requests to this server by route and status",
        );
        r.describe_histogram(
            KeyName::from_const_str(RUN_DURATION),
            Some(Unit::Seconds),
            "Duration of sync runs".into(),
        );
        let g = |name: &'static str, text: &'static str| {
            r.describe_gauge(KeyName::from_const_str(name), None, text.into())
        };
        g(
            FINDINGS_BY_SEVERITY,
            "Stored findings by normalized severity",
        );
        g(FINDINGS_BY_STATUS, "Stored findings by normalized status");
        g(ASSETS, "Stored assets (applications)");
        g(RUNNING, "Syncs running in this process");
        g(
            HTTP_CONNECTIONS,
            "HTTP connections open to this server (at most --max-connections)",
        );
        g(
            CLOCK_SKEW,
            "This worker's clock minus the store's database server's (leases are judged by each worker's clock)",
        );
        g(
            DUE_RUNS_WAITING,
            "Scheduled runs past their time that no worker has started yet",
        );
        g(
            DUE_RUN_WAIT,
            "How long the longest-waiting of those has waited past its time",
        );
        g(
            STORE_UP,
            "1 when the store answered this scrape's reads in time, else 0",
        );
        g(
            BUILD_INFO,
            "The binary's version, as a label of a constant 1",
        );
    }

    fn counter(&self, name: &'static str, pairs: &[(&'static str, &str)]) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels(pairs)), &METADATA)
    }

    fn gauge(&self, name: &'static str, pairs: &[(&'static str, &str)]) -> Gauge {
        self.recorder
            .register_gauge(&Key::from_parts(name, labels(pairs)), &METADATA)
    }

    fn histogram(&self, name: &'static str, pairs: &[(&'static str, &str)]) -> Histogram {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels(pairs)), &METADATA)
    }

    /// An HTTP connection opened (`by` 1) or closed (-1). The gauge moves by steps, not
    /// to a count read beforehand: two connections ending at once each read a count and
    /// set it, and the older one could land last, a connection off until the next change.
    pub fn http_connections_changed(&self, by: f64) {
        self.gauge(HTTP_CONNECTIONS, &[]).increment(by);
    }

    /// The scheduled runs past their time and not started, and the longest wait among
    /// them, as the scheduler's last look found them.
    pub fn due_runs_waiting(&self, waiting: usize, longest: chrono::Duration) {
        self.gauge(DUE_RUNS_WAITING, &[]).set(waiting as f64);
        self.gauge(DUE_RUN_WAIT, &[])
            .set(longest.num_milliseconds().max(0) as f64 / 1000.0);
    }

    /// The latest comparison of this worker's clock with the store server's.
    pub fn clock_skew(&self, skew: chrono::Duration) {
        self.gauge(CLOCK_SKEW, &[])
            .set(skew.num_milliseconds() as f64 / 1000.0);
    }

    /// `n` more records were fetched for `connector` (called while the run goes).
    pub fn records_fetched(&self, connector: &str, n: u64) {
        self.counter(RECORDS_FETCHED, &[("connector", connector)])
            .increment(n);
    }

    /// A run ended (`counters` when it got as far as a run row) after `elapsed`.
    pub fn run_finished(
        &self,
        connector: &str,
        outcome: &str,
        counters: Option<&RunCounters>,
        elapsed: Duration,
    ) {
        let c = [("connector", connector)];
        self.counter(RUNS, &[("connector", connector), ("outcome", outcome)])
            .increment(1);
        self.histogram(RUN_DURATION, &c)
            .record(elapsed.as_secs_f64());
        if let Some(k) = counters {
            self.counter(RECORDS_STORED, &c)
                .increment(k.inserted + k.updated + k.unchanged);
            self.counter(RECORDS_FAILED, &c).increment(k.failed);
        }
    }

    /// The HTTP counters of one run's AppScan client.
    pub fn client_stats(&self, connector: &str, s: &ClientStats) {
        for (status, n) in &s.requests_by_status {
            let status = status.to_string();
            self.counter(
                APPSCAN_REQUESTS,
                &[("connector", connector), ("status", &status)],
            )
            .increment(*n);
        }
        let c = [("connector", connector)];
        self.counter(APPSCAN_RETRIES, &c).increment(s.retries);
        self.counter(APPSCAN_TRANSPORT_ERRORS, &c)
            .increment(s.transport_errors);
        self.counter(RATE_LIMIT_WAITS, &c)
            .increment(s.rate_limit_waits);
        self.counter(RATE_LIMIT_WAIT_MS, &c)
            .increment(s.rate_limit_wait_ms);
    }

    /// A sync started (`by` 1) or ended (-1) in this process: by steps, as
    /// [`Self::http_connections_changed`].
    pub fn running_changed(&self, by: f64) {
        self.gauge(RUNNING, &[]).increment(by);
    }

    /// Sets the findings and assets gauges from the store's summary.
    pub fn summary(&self, s: &Summary) {
        self.gauge(ASSETS, &[]).set(s.assets as f64);
        for sev in Severity::ALL {
            let n = s
                .by_severity
                .iter()
                .find(|(k, _)| *k == sev)
                .map_or(0, |(_, n)| *n);
            self.gauge(FINDINGS_BY_SEVERITY, &[("severity", sev.as_str())])
                .set(n as f64);
        }
        for st in Status::ALL {
            let n = s
                .by_status
                .iter()
                .find(|(k, _)| *k == st)
                .map_or(0, |(_, n)| *n);
            self.gauge(FINDINGS_BY_STATUS, &[("status", st.as_str())])
                .set(n as f64);
        }
    }

    /// Sets [`STORE_UP`] from how the store answered a scrape (`error` when it did not),
    /// and says so in the log when it stops answering and when it answers again, not at
    /// every scrape.
    pub fn store_answered(&self, error: Option<&str>) {
        self.gauge(STORE_UP, &[])
            .set(if error.is_some() { 0.0 } else { 1.0 });
        self.store_outage
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .observe("metrics", error.map_or(Ok(()), Err));
    }

    /// One request to this server.
    pub fn http_request(&self, method: &str, route: &str, status: u16) {
        let status = status.to_string();
        self.counter(
            HTTP_REQUESTS,
            &[
                ("method", method_label(method)),
                ("route", route),
                ("status", &status),
            ],
        )
        .increment(1);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// The per-connector gauges, in the text exposition format: read from the store at each
/// scrape rather than kept in the recorder, so that they hold for runs of every worker
/// and of the CLI, survive a restart, and a removed connector's series go with it.
pub fn connectors_text(connectors: &[Connector], times: &[RunTimes]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    header(
        &mut out,
        CONNECTOR_STATE,
        "Each connector's state: 1 for the one it is in, 0 for the others",
    );
    for c in connectors {
        let name = label_value(&c.name);
        for st in ConnectorState::ALL {
            let on = u8::from(st == c.state);
            let _ = writeln!(
                out,
                "{CONNECTOR_STATE}{{connector=\"{name}\",state=\"{st}\"}} {on}"
            );
        }
    }
    let timestamps: [(&str, &str, TimeOf); 2] = [
        (
            CONNECTOR_LAST_SUCCESS,
            "When the connector's last Processed run ended, in seconds since 1970 (none before the first)",
            |t| t.last_success,
        ),
        (
            CONNECTOR_RUNNING_SINCE,
            "When the connector's run under way started, in seconds since 1970 (none while no run is)",
            |t| t.running_since,
        ),
    ];
    let by_id: std::collections::HashMap<i64, &Connector> =
        connectors.iter().map(|c| (c.id, c)).collect();
    for (metric, help, at) in timestamps {
        header(&mut out, metric, help);
        for t in times {
            if let (Some(c), Some(at)) = (by_id.get(&t.connector_id), at(t)) {
                let seconds = at.timestamp_millis() as f64 / 1000.0;
                let _ = writeln!(
                    out,
                    "{metric}{{connector=\"{}\"}} {seconds}",
                    label_value(&c.name)
                );
            }
        }
    }
    out
}

/// Which of a connector's [`RunTimes`] a gauge shows.
type TimeOf = fn(&RunTimes) -> Option<DateTime<Utc>>;

/// A gauge family's HELP and TYPE lines.
fn header(out: &mut String, name: &str, help: &str) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
}

/// A label value as the exposition format writes it: backslash, quote and line feed
/// escaped.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A request's method as a metric label: HTTP's own, else `other`. Any token is a method
/// to HTTP, and each new one was a new series for good: without a token, thousands of
/// made-up methods grew the process and made a scrape 16 MB.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made-up methods share one label: each was a series of its own, for good.
    #[test]
    fn request_methods_are_a_bounded_label() {
        let m = Metrics::new();
        for i in 0..50 {
            m.http_request(&format!("M{i}XYZ"), "unmatched", 405);
        }
        m.http_request("GET", "/healthz", 200);
        let text = m.render();
        assert!(!text.contains("M7XYZ"), "{text}");
        assert!(text.contains(
            "appscan_bridge_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 50"
        ), "{text}");
        assert!(text.contains("method=\"GET\""), "{text}");
    }

    /// The connectors' gauges: every state with 1 for the current one, times only where
    /// there are some, names escaped as label values.
    #[test]
    fn renders_the_connectors_from_the_store() {
        let at = |s: i64| DateTime::from_timestamp(s, 500_000_000);
        let connector = |id: i64, name: &str, state: ConnectorState| Connector {
            id,
            name: name.into(),
            kind: "asoc".into(),
            url: None,
            key_id: None,
            secret: None,
            settings: serde_json::json!({}),
            state,
            state_reason: None,
            cursor: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let text = connectors_text(
            &[
                connector(1, "shop", ConnectorState::Errored),
                connector(2, "odd\"name", ConnectorState::Processing),
            ],
            &[
                RunTimes {
                    connector_id: 1,
                    last_success: at(1_765_000_000),
                    running_since: None,
                },
                RunTimes {
                    connector_id: 2,
                    last_success: None,
                    running_since: at(1_765_000_100),
                },
            ],
        );
        for line in [
            "# TYPE appscan_bridge_connector_state gauge",
            "appscan_bridge_connector_state{connector=\"shop\",state=\"Errored\"} 1",
            "appscan_bridge_connector_state{connector=\"shop\",state=\"Processed\"} 0",
            "appscan_bridge_connector_state{connector=\"odd\\\"name\",state=\"Processing\"} 1",
            "appscan_bridge_connector_last_success_timestamp_seconds{connector=\"shop\"} 1765000000.5",
            "appscan_bridge_connector_running_since_timestamp_seconds{connector=\"odd\\\"name\"} 1765000100.5",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(
            !text.contains("last_success_timestamp_seconds{connector=\"odd"),
            "{text}"
        );
        assert_eq!(text.matches("appscan_bridge_connector_state{").count(), 10);
    }

    #[test]
    fn renders_counters_gauges_and_histograms() {
        let m = Metrics::new();
        m.records_fetched("shop", 120);
        m.run_finished(
            "shop",
            "processed",
            Some(&RunCounters {
                inserted: 100,
                updated: 10,
                unchanged: 5,
                failed: 2,
                ..Default::default()
            }),
            Duration::from_secs(42),
        );
        let mut stats = ClientStats::default();
        stats.requests_by_status.insert(200, 7);
        stats.requests_by_status.insert(429, 2);
        stats.retries = 2;
        stats.rate_limit_waits = 3;
        stats.rate_limit_wait_ms = 1500;
        m.client_stats("shop", &stats);
        m.summary(&Summary {
            assets: 3,
            findings: 9,
            by_severity: vec![(Severity::High, 9)],
            by_status: vec![(Status::New, 9)],
        });
        let text = m.render();
        for line in [
            "appscan_bridge_runs_total{connector=\"shop\",outcome=\"processed\"} 1",
            "appscan_bridge_records_fetched_total{connector=\"shop\"} 120",
            "appscan_bridge_records_stored_total{connector=\"shop\"} 115",
            "appscan_bridge_records_failed_total{connector=\"shop\"} 2",
            "appscan_bridge_appscan_requests_total{connector=\"shop\",status=\"429\"} 2",
            "appscan_bridge_appscan_retries_total{connector=\"shop\"} 2",
            "appscan_bridge_rate_limit_waits_total{connector=\"shop\"} 3",
            "appscan_bridge_rate_limit_wait_milliseconds_total{connector=\"shop\"} 1500",
            "appscan_bridge_findings_by_severity{severity=\"High\"} 9",
            "appscan_bridge_findings_by_severity{severity=\"Low\"} 0",
            "appscan_bridge_findings_by_status{status=\"NEW\"} 9",
            "appscan_bridge_run_duration_seconds_bucket{connector=\"shop\",le=\"60\"} 1",
            "appscan_bridge_run_duration_seconds_count{connector=\"shop\"} 1",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
    }
}
