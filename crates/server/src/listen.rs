//! `serve`'s HTTP listener: our own accept loop on hyper, so that no client can hold the
//! process's connections (and with them its file descriptors) forever.
//!
//! - A request's headers must arrive within [`ConnectionLimits::header_timeout`]. In
//!   hyper 1.x that timer also runs while a kept-alive connection waits for its next
//!   request (it is armed whenever the connection reads a request head), so it is the
//!   idle limit of keep-alive connections as well.
//! - A response that the client stops reading is given up after
//!   [`ConnectionLimits::send_timeout`] without progress ([`SendTimeout`]).
//! - At most [`ConnectionLimits::max_connections`] connections are open at once (never
//!   more than the open-file limit leaves room for); at the cap the loop stops accepting
//!   — new clients wait in the kernel's backlog until a connection closes — and says so
//!   in the log at most once a minute.
//! - Accept errors (`EMFILE`: too many open files) back off instead of spinning.
//! - At shutdown the listener closes, idle connections close, requests in flight may
//!   finish within the time given, then what is left is dropped.
//!
//! HTTP/1.1 only: hyper offers no header or idle timeout for HTTP/2, nor for the
//! sniffing of a cleartext HTTP/2 preface, and browsers speak HTTP/2 over TLS only,
//! which `serve` does not terminate.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a client may take, and how many it may hold, of `serve`'s connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Time to send a request's headers, counted from the connection's start or the end
    /// of its previous response — so also how long a keep-alive connection may stay idle.
    /// The connection is closed after it.
    pub header_timeout: Duration,
    /// Time a response may wait on a client that reads nothing of it (a stalled
    /// download) before the connection is closed.
    pub send_timeout: Duration,
    /// Connections open at once; at most the open-file limit minus [`FD_RESERVE`].
    pub max_connections: usize,
}

/// Defaults of [`ConnectionLimits`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// File descriptors kept out of the connection cap for everything else the process
/// opens: the store (SQLite's database, journal and shared-memory files, or the
/// PostgreSQL pool), the connections of running syncs to AppScan, export temp files,
/// the runtime's own (epoll, signals) and standard streams.
pub const FD_RESERVE: u64 = 128;

/// The connection cap never goes below this, whatever the open-file limit.
const MIN_CONNECTIONS: usize = 16;

/// How often the log may say the cap was reached, or that accepting fails.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Back-off after an accept error: doubled on each error in a row, up to the maximum.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The HTTP side of a running server.
pub(crate) struct Http {
    /// The connection cap in force (the one asked for, or lower: see [`FD_RESERVE`]).
    pub(crate) max_connections: usize,
    /// Stops the accept loop (and closes the listener).
    stop: CancellationToken,
    /// Drops every connection still open.
    kill: CancellationToken,
    tracker: TaskTracker,
    accept: JoinHandle<GracefulShutdown>,
}

/// Told of each connection opened (1) and closed (-1), for a metric.
pub(crate) type OpenConnections = Arc<dyn Fn(f64) + Send + Sync>;

/// Starts accepting connections on `listener` for `app`; returns at once.
pub(crate) fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ConnectionLimits,
    open: OpenConnections,
) -> Http {
    let stop = CancellationToken::new();
    let kill = CancellationToken::new();
    let tracker = TaskTracker::new();
    let max = connection_cap(limits.max_connections, open_file_limit());
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let accept = tokio::spawn(accept_loop(Accept {
        listener,
        app,
        builder: Arc::new(builder),
        permits: Arc::new(Semaphore::new(max)),
        max,
        send_timeout: limits.send_timeout,
        open,
        stop: stop.clone(),
        kill: kill.clone(),
        tracker: tracker.clone(),
    }));
    Http {
        max_connections: max,
        stop,
        kill,
        tracker,
        accept,
    }
}

impl Http {
    /// Closes the listener, asks every connection to close once its request in flight is
    /// answered (idle ones close at once), waits up to `within` for that, then drops the
    /// connections left and waits for their tasks to end.
    pub(crate) async fn shutdown(self, within: Duration) {
        self.stop.cancel();
        let graceful = match self.accept.await {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::error!("the accept loop ended abnormally: {e}");
                None
            }
        };
        self.tracker.close();
        let done = match graceful {
            Some(g) => tokio::time::timeout(within, g.shutdown()).await.is_ok(),
            None => false,
        };
        if !done {
            let open = self.tracker.len();
            if open > 0 {
                tracing::warn!(
                    open,
                    ?within,
                    "closing HTTP connections still open at the end of the grace period"
                );
            }
            self.kill.cancel();
        }
        self.tracker.wait().await;
    }
}

struct Accept {
    listener: TcpListener,
    app: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    permits: Arc<Semaphore>,
    max: usize,
    send_timeout: Duration,
    open: OpenConnections,
    stop: CancellationToken,
    kill: CancellationToken,
    tracker: TaskTracker,
}

async fn accept_loop(a: Accept) -> GracefulShutdown {
    let graceful = GracefulShutdown::new();
    let mut cap_logged: Option<Instant> = None;
    let mut error_logged: Option<Instant> = None;
    let mut backoff = BACKOFF_MIN;
    loop {
        let permit = match a.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if due(&mut cap_logged) {
                    tracing::warn!(
                        max = a.max,
                        "HTTP connection limit reached: new connections wait until one closes"
                    );
                }
                tokio::select! {
                    p = a.permits.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                    _ = a.stop.cancelled() => break,
                }
            }
        };
        let accepted = tokio::select! {
            r = a.listener.accept() => r,
            _ = a.stop.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(c) => {
                backoff = BACKOFF_MIN;
                c
            }
            // The client gave up before we took its connection: nothing wrong here.
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                if due(&mut error_logged) {
                    tracing::error!(
                        open = a.max - a.permits.available_permits() - 1,
                        "accepting an HTTP connection failed, retrying: {e}"
                    );
                }
                drop(permit);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = a.stop.cancelled() => break,
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        let builder = a.builder.clone();
        let service = TowerToHyperService::new(a.app.clone());
        let watcher = graceful.watcher();
        let kill = a.kill.clone();
        let send_timeout = a.send_timeout;
        let open = a.open.clone();
        open(1.0);
        a.tracker.spawn(async move {
            let permit = permit;
            let io = TokioIo::new(SendTimeout::new(stream, send_timeout));
            let conn = watcher.watch(builder.serve_connection(io, service));
            tokio::select! {
                r = conn => {
                    if let Err(e) = r {
                        tracing::debug!(%peer, "HTTP connection ended: {e}");
                    }
                }
                _ = kill.cancelled() => {
                    tracing::debug!(%peer, "HTTP connection dropped at shutdown");
                }
            }
            drop(permit);
            open(-1.0);
        });
    }
    tracing::debug!("no longer accepting HTTP connections");
    graceful
}

/// True (and remembers now) when nothing was logged for [`LOG_EVERY`].
fn due(last: &mut Option<Instant>) -> bool {
    if last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
        return false;
    }
    *last = Some(Instant::now());
    true
}

/// Errors of one incoming connection, not of the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// The soft limit on open files, if the system has one.
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct we pass it.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0;
        if ok && r.rlim_cur != libc::RLIM_INFINITY {
            // rlim_t is u64 on Linux, not on every Unix.
            #[allow(clippy::unnecessary_cast)]
            return Some(r.rlim_cur as u64);
        }
        None
    }
    #[cfg(not(unix))]
    None
}

/// The cap asked for, lowered to what the open-file limit leaves after [`FD_RESERVE`].
fn connection_cap(asked: usize, fd_limit: Option<u64>) -> usize {
    let asked = asked.max(1);
    let Some(limit) = fd_limit else {
        return asked;
    };
    let room = usize::try_from(limit.saturating_sub(FD_RESERVE))
        .unwrap_or(usize::MAX)
        .max(MIN_CONNECTIONS);
    if asked > room {
        tracing::warn!(
            asked,
            cap = room,
            open_file_limit = limit,
            "lowering the HTTP connection cap to fit the open-file limit (ulimit -n)"
        );
        return room;
    }
    asked
}

/// A connection whose writes fail with `TimedOut` once they have made no progress for
/// the limit: hyper has no write timeout, and a client that stops reading a download
/// would hold its connection forever.
pub(crate) struct SendTimeout<T> {
    inner: T,
    limit: Duration,
    /// Armed while a write waits; reset by any write that makes progress.
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
    armed: bool,
}

impl<T> SendTimeout<T> {
    pub(crate) fn new(inner: T, limit: Duration) -> Self {
        SendTimeout {
            inner,
            limit,
            stall: None,
            armed: false,
        }
    }

    /// After the inner write answered `Pending`: starts the clock if it does not run,
    /// and fails once it ran out.
    fn stalled<R>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        if !self.armed {
            let deadline = tokio::time::Instant::now() + self.limit;
            match &mut self.stall {
                Some(s) => s.as_mut().reset(deadline),
                None => self.stall = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            self.armed = true;
        }
        let sleep = self.stall.as_mut().expect("armed above");
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {:?}", self.limit),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progressed<R>(
        &mut self,
        r: Poll<io::Result<R>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<R>> {
        match r {
            Poll::Ready(r) => {
                self.armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => self.stalled(cx),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SendTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SendTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.progressed(r, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.progressed(r, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        this.progressed(r, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.progressed(r, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_rest_of_the_process() {
        assert_eq!(connection_cap(512, None), 512);
        assert_eq!(connection_cap(512, Some(20_000)), 512);
        assert_eq!(connection_cap(2000, Some(1024)), 1024 - FD_RESERVE as usize);
        assert_eq!(connection_cap(512, Some(256)), 128);
        assert_eq!(connection_cap(512, Some(64)), MIN_CONNECTIONS);
        assert_eq!(connection_cap(0, None), 1);
    }

    #[tokio::test]
    async fn a_write_that_makes_no_progress_times_out() {
        use tokio::io::AsyncWriteExt;
        // A pipe of 8 bytes nobody reads: the second write waits forever.
        let (a, _b) = tokio::io::duplex(8);
        let mut w = SendTimeout::new(a, Duration::from_millis(200));
        w.write_all(b"12345678").await.expect("fits");
        let t0 = Instant::now();
        let e = w.write_all(b"9").await.expect_err("times out");
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let waited = t0.elapsed();
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }

    #[tokio::test]
    async fn progress_restarts_the_clock() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (a, mut b) = tokio::io::duplex(8);
        let mut w = SendTimeout::new(a, Duration::from_millis(500));
        // A reader that takes 8 bytes every 100 ms: the whole write takes three times
        // the limit, but never stalls for as long as it.
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            let mut n = 0;
            while n < 128 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                n += b.read(&mut buf).await.expect("read");
            }
        });
        w.write_all(&[7u8; 128])
            .await
            .expect("each write progressed in time");
        reader.await.expect("reader");
    }
}
