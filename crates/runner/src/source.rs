//! What a source is to the runner: a stream of pages of raw records.
//!
//! Sources (ASoC, ASE, XML reports) know their protocol and nothing of the store or the
//! map; the runner knows the store and the map and nothing of the protocol.

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use serde_json::Value;
use store::RunMode;
use tracing::Instrument;

/// One step of a source's output.
#[derive(Debug, Clone)]
pub enum Event {
    /// The number of applications this run will go through (for progress).
    AppsTotal(u64),
    /// A page of application records; `location` says where it came from.
    Assets { location: String, items: Vec<Value> },
    /// A page of issue records of one application.
    Findings {
        app_id: String,
        location: String,
        items: Vec<Value>,
    },
    /// A page that could not be read; `lost` is how many records it is thought to hold.
    BadPage {
        location: String,
        message: String,
        lost: u64,
    },
    /// Every record of this application has been delivered (`records` of them).
    /// `empty_means_clean`: none means the application has no finding now — a whole
    /// report of it was read (XML) —, where a server that lists none (ASE) may only have
    /// no scan of it, so its stored findings are left as they are.
    AppComplete {
        app_id: String,
        records: u64,
        empty_means_clean: bool,
    },
    /// Not every record of this application was delivered, though no page failed (a
    /// listing that ended short of the server's count, or whose count changed on the
    /// way): a full run must not close its findings that were not seen.
    AppIncomplete {
        app_id: String,
        location: String,
        message: String,
    },
    /// Progress in bytes of a file source (`read` of `total`).
    Bytes { read: u64, total: u64 },
}

/// What the runner asks of a source.
#[derive(Debug, Clone)]
pub struct Request {
    pub mode: RunMode,
    /// Delta runs: records changed at or after this time (the cursor minus the overlap).
    pub since: Option<DateTime<Utc>>,
    /// The external ids of the applications the store already has.
    pub known_assets: Vec<String>,
}

/// Why a source stopped early; ends the run as Errored with this message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

impl SourceError {
    /// A client's error, with what a TLS refusal among its causes means (see
    /// [`crate::check::run_failure`]).
    pub fn of(e: &(dyn std::error::Error + 'static)) -> SourceError {
        SourceError(crate::check::run_failure(e))
    }
}

/// Counters a source keeps about its requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceStats {
    pub requests: u64,
    pub retries: u64,
}

/// A source of raw records.
pub trait Source: Send {
    /// The records of one run, page by page.
    fn events(&mut self, request: Request) -> BoxStream<'static, Result<Event, SourceError>>;
    /// Counters so far.
    fn stats(&self) -> SourceStats;
    /// The HTTP client's detailed counters (answers by status, rate-limit waits), for
    /// sources whose client keeps them; `serve` exports them as metrics.
    fn client_stats(&self) -> Option<asoc::ClientStats> {
        None
    }
    /// How far the server's clock is ahead of this host's (behind when negative), for
    /// sources whose server says (ASoC's `Date` header): a delta's cursor is kept in the
    /// server's time, as the `LastUpdated` it is compared with.
    fn server_clock_offset(&self) -> Option<chrono::Duration> {
        None
    }
    /// Whether every run is a full run whose absent findings are closed (ASE, XML).
    fn closes_unseen(&self) -> bool {
        false
    }
    /// Whether a run's writes are one transaction (XML reports up to a size: a file
    /// stores all or nothing).
    fn atomic(&self) -> bool {
        false
    }
    /// Where a record whose issue id the run met before had it listed, as the run's
    /// warning about such repeats says it (`earlier in the report`); the store keeps one
    /// finding per id, the last record's. `None` (the default) when a repeat is no news
    /// and not warned about: an API listing paged by position serves a record again when
    /// records before it move between its pages (an issue created or deleted meanwhile),
    /// and the copy kept, the later, is the newer. A source that says where has its runs
    /// write their last records before their end (with the closing warnings, not the
    /// cursor), so that the warning counts them.
    fn repeats_listed(&self) -> Option<&'static str> {
        None
    }
    /// The normalized severity given to severities the map does not know (kept verbatim
    /// and warned about); `None` makes them record errors.
    fn unknown_severity(&self) -> Option<model::Severity> {
        None
    }
    /// What the store holds of the connector's assets, given before [`Source::events`]
    /// to full-run sources: their tags (which accumulate over runs) and report dates (a
    /// report older than the last one imported is refused).
    fn known_assets(&mut self, _known: crate::full_run::KnownAssets) {}
    /// Ends the session (logout); called at the end of every run, failed runs included.
    fn close(&mut self) -> BoxFuture<'static, ()>;
}

/// Runs `body` as a producer feeding a stream through a small bounded channel, so the
/// source pauses while the runner writes (back-pressure, flat memory). A send fails only
/// when the consumer has gone, which ends the producer; dropping the stream also stops
/// the producer where it waits. A stopped run (Ctrl-C, SIGTERM) left it retrying an
/// unreachable server in the background, holding the client's login, and the run's
/// logout waited for it: 25 s before a SIGTERMed sync exited, past a container's stop
/// timeout.
pub fn channel_stream<F, Fut>(body: F) -> impl futures::Stream<Item = Result<Event, SourceError>>
where
    F: FnOnce(Sender) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), SourceError>> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let err_tx = tx.clone();
    let producer = tokio::spawn(
        async move {
            // A panic (a bug reached by what a server sent) ended the task and with it the
            // stream, which the run read as the source's end: an ASE sync ended Processed
            // with the applications not yet read. It is the run's error now.
            let ended = std::panic::AssertUnwindSafe(body(Sender(tx)))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(SourceError(panicked(panic.as_ref()))));
            if let Err(e) = ended {
                let _ = err_tx.send(Err(e)).await;
            }
        }
        // In the run's log span: a retry's warning named no connector.
        .in_current_span(),
    );
    tokio_stream_from(rx, AbortOnDrop(producer.abort_handle()))
}

/// What a source that panicked says: the panic's message where it has one.
fn panicked(panic: &(dyn std::any::Any + Send)) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    format!("the source stopped on an internal error ({message}); please report it")
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<Result<Event, SourceError>>,
    producer: AbortOnDrop,
) -> impl futures::Stream<Item = Result<Event, SourceError>> {
    futures::stream::unfold((rx, producer), |(mut rx, producer)| async move {
        rx.recv().await.map(|item| (item, (rx, producer)))
    })
}

/// The producer's end of an event stream.
#[derive(Clone)]
pub struct Sender(tokio::sync::mpsc::Sender<Result<Event, SourceError>>);

impl Sender {
    pub async fn send(&self, item: Result<Event, SourceError>) -> Result<(), SourceError> {
        self.0
            .send(item)
            .await
            .map_err(|_| SourceError("the run stopped reading".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::channel_stream;
    use futures::StreamExt;

    /// Tells, when dropped, that the producer's future is gone.
    struct Gone(Option<tokio::sync::oneshot::Sender<()>>);

    impl Drop for Gone {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(());
            }
        }
    }

    /// A stream dropped by its consumer (a stopped run) stops its producer where it
    /// waits (a retry's backoff against a server that is down): it went on in the
    /// background, holding the client's login, and the run's logout waited for it.
    #[tokio::test]
    async fn dropping_the_stream_stops_a_waiting_producer() {
        let (tx, gone) = tokio::sync::oneshot::channel();
        let mut events = Box::pin(channel_stream(move |_sender| async move {
            let _guard = Gone(Some(tx));
            std::future::pending::<()>().await;
            Ok(())
        }));
        // Nothing comes; the consumer gives up.
        let nothing =
            tokio::time::timeout(std::time::Duration::from_millis(50), events.next()).await;
        assert!(nothing.is_err(), "the producer sent nothing");
        drop(events);
        tokio::time::timeout(std::time::Duration::from_secs(30), gone)
            .await
            .expect("the producer was stopped")
            .expect("its guard said so");
    }

    /// A producer that panics ends the stream with an error, not as a source that read
    /// everything (the run went on to judge what it had and moved the cursor).
    #[tokio::test]
    async fn a_panicking_producer_ends_the_stream_with_an_error() {
        let mut events = Box::pin(channel_stream(|_sender| async move {
            let text = "&日本語";
            // What the ASE unescaper did: a slice inside a character.
            let _ = &text[..2];
            Ok(())
        }));
        match events.next().await {
            Some(Err(e)) => assert!(e.0.contains("internal error (end byte index 2"), "{}", e.0),
            other => panic!(
                "expected the panic as an error, got {:?}",
                other.map(|r| r.is_ok())
            ),
        }
        assert!(events.next().await.is_none());
    }
}
