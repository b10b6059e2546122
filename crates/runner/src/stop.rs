//! A run's stop switch. Whoever stops a run says why (Ctrl-C, SIGTERM, a cancel through
//! the API, a service stopping, a lease lost to another worker), and the run records
//! that reason in its history instead of one fixed text for every cause.

use std::sync::{Arc, OnceLock};
use tokio_util::sync::CancellationToken;

/// Said when a run stopped and nobody said why.
const UNSAID: &str = "stopped";

/// A cancellation token with the reason of its first stop. Clones share both; a
/// [`Stop::child`] is also stopped by its parent, with the parent's reason.
#[derive(Clone, Debug, Default)]
pub struct Stop {
    token: CancellationToken,
    why: Arc<OnceLock<String>>,
    parent: Option<Arc<Stop>>,
}

impl Stop {
    /// A switch not yet thrown.
    pub fn new() -> Self {
        Self::default()
    }

    /// A switch thrown by `self` too (a server's shutdown stops each of its runs).
    pub fn child(&self) -> Stop {
        Stop {
            token: self.token.child_token(),
            why: Arc::default(),
            parent: Some(Arc::new(self.clone())),
        }
    }

    /// Stops the run; the first reason given is the one kept.
    pub fn stop(&self, why: impl Into<String>) {
        // A later reason loses: the run already stops for the first one.
        let _ = self.why.set(why.into());
        self.token.cancel();
    }

    /// Whether the switch (or a parent's) was thrown.
    pub fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes once the switch (or a parent's) is thrown.
    pub async fn stopped(&self) {
        self.token.cancelled().await
    }

    /// Why the run was stopped: its own reason, else its parent's.
    pub fn reason(&self) -> &str {
        match (self.why.get(), &self.parent) {
            (Some(why), _) => why,
            (None, Some(parent)) => parent.reason(),
            (None, None) => UNSAID,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_is_kept() {
        let stop = Stop::new();
        assert!(!stop.is_stopped());
        stop.clone().stop("interrupted (Ctrl-C)");
        stop.stop("stopped by SIGTERM");
        assert!(stop.is_stopped());
        assert_eq!(stop.reason(), "interrupted (Ctrl-C)");
    }

    #[test]
    fn a_child_stops_with_its_parent_and_says_why() {
        let service = Stop::new();
        let (one, two) = (service.child(), service.child());
        one.stop("cancelled through the API");
        assert!(!service.is_stopped() && !two.is_stopped());
        service.stop("the service is stopping");
        assert!(two.is_stopped());
        assert_eq!(two.reason(), "the service is stopping");
        assert_eq!(one.reason(), "cancelled through the API");
    }

    #[test]
    fn a_stop_nobody_explained_still_says_something() {
        let parent = Stop::new();
        let child = parent.child();
        parent.token.cancel();
        assert!(child.is_stopped());
        assert_eq!(child.reason(), UNSAID);
    }
}
