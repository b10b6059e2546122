//! The server's clock, read off the `Date` header of its answers. A delta asks for what
//! changed since its cursor in the server's time (`LastUpdated` is stamped by the
//! server), so the runner keeps the cursor in that time: a host clock ahead of the
//! server's saved a cursor in the server's future (the next deltas asked for nothing
//! and moved past every change), and one behind by more than the overlap missed what
//! changed in between.

use chrono::{DateTime, Duration, Utc};
use reqwest::header::{DATE, HeaderMap};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};

/// How far the server's clock is ahead of this host's, as its first answer showed.
#[derive(Default)]
pub(crate) struct ServerClock {
    offset_ms: AtomicI64,
    known: AtomicBool,
}

impl ServerClock {
    /// Notes the time the first answer's `Date` header gives, against this host's now
    /// (a run's client is new, so that is its login, next to the run's start). Later
    /// answers are not taken: this host's clock stepped during a run (an NTP correction)
    /// paired a start read on one clock with an offset read on the other, and the cursor
    /// landed an hour in the server's future. The header has whole seconds and the answer
    /// took a while to arrive, so the offset errs on the early side (a cursor a second
    /// earlier asks for a little more).
    pub(crate) fn saw(&self, headers: &HeaderMap) {
        if self.known.load(Relaxed) {
            return;
        }
        if let Some(date) = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
        {
            self.offset_ms
                .store((date - Utc::now()).num_milliseconds(), Relaxed);
            self.known.store(true, Relaxed);
        }
    }

    /// The server's clock minus this host's, once an answer had a readable `Date`: the
    /// first such answer's.
    pub(crate) fn offset(&self) -> Option<Duration> {
        self.known
            .load(Relaxed)
            .then(|| Duration::milliseconds(self.offset_ms.load(Relaxed)))
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110's IMF-fixdate, which RFC 2822
/// reads).
fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_offset_follows_the_date_header() {
        let clock = ServerClock::default();
        assert_eq!(clock.offset(), None);
        let mut headers = HeaderMap::new();
        headers.insert(DATE, HeaderValue::from_static("not a date"));
        clock.saw(&headers);
        assert_eq!(clock.offset(), None, "an unreadable date is no clock");
        let date = |at: chrono::DateTime<Utc>| {
            HeaderValue::from_str(&at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
                .expect("header")
        };
        headers.insert(DATE, date(Utc::now() + Duration::hours(1)));
        clock.saw(&headers);
        let offset = clock.offset().expect("known");
        assert!(
            offset > Duration::minutes(59) && offset <= Duration::hours(1),
            "{offset}"
        );
        // A later answer (after this host's clock was stepped, say) changes nothing.
        headers.insert(DATE, date(Utc::now()));
        clock.saw(&headers);
        assert_eq!(clock.offset(), Some(offset));
    }
}
